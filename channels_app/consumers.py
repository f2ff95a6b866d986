"""The agent console's websocket: ticket events for what the agent may see, plus viewing/typing presence.

Authorisation happens in `connect` (and per ticket in `watch`) through TicketPolicy; the consumer never writes
rows. Events only notify: the page fetches messages after its last `seq` over HTTP.
"""

from __future__ import annotations

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from helpdesk import realtime
from tickets.models import Ticket
from tickets.permissions import TicketPolicy

MAX_WATCHED = 20
MAX_FRAME_CHARS = 4096


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        groups = await database_sync_to_async(self._groups_for)(user)
        if groups is None:
            await self.close(code=4403)
            return
        self.user = user
        self.display_name = await database_sync_to_async(self._display_name)(user)
        self.groups_joined = groups
        self.watching: set[int] = set()
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    @staticmethod
    def _groups_for(user) -> list[str] | None:
        scope = TicketPolicy.scope(user)
        if scope.user_id is None or not (scope.is_supervisor or scope.queue_ids or scope.shop_ids):
            return None
        groups = [realtime.user_group(scope.user_id)]
        groups += [realtime.queue_group(q) for q in sorted(scope.queue_ids)]
        groups += [realtime.shop_group(s) for s in sorted(scope.shop_ids)]
        if scope.is_supervisor:
            groups.append(realtime.SUPERVISORS_GROUP)
        return groups

    @staticmethod
    def _display_name(user) -> str:
        profile = getattr(user, "agent_profile", None)
        return (profile.display_name if profile else "") or user.get_username()

    async def disconnect(self, code):
        for ticket_id in list(getattr(self, "watching", ())):
            await self._presence(ticket_id, "left")
            await self.channel_layer.group_discard(realtime.ticket_group(ticket_id), self.channel_name)
        for group in getattr(self, "groups_joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Malformed or oversized frames get an error frame; the connection stays usable."""
        if text_data is None or len(text_data) > MAX_FRAME_CHARS:
            await self.send_json({"type": "error", "code": "malformed", "message": "Send JSON text frames under 4 KB."})
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_json({"type": "error", "code": "malformed", "message": "Frames are JSON objects."})
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "code": "malformed", "message": "Frames are JSON objects."})
            return
        kind = content.get("type")
        ticket_id = content.get("ticket")
        if kind not in {"watch", "unwatch", "typing"} or not isinstance(ticket_id, int):
            await self.send_json({"type": "error", "code": "malformed", "message": "Unknown frame or missing ticket."})
            return
        if kind == "watch":
            await self._watch(ticket_id)
        elif kind == "unwatch" and ticket_id in self.watching:
            self.watching.discard(ticket_id)
            await self._presence(ticket_id, "left")
            await self.channel_layer.group_discard(realtime.ticket_group(ticket_id), self.channel_name)
        elif kind == "typing" and ticket_id in self.watching:
            await self._presence(ticket_id, "typing" if content.get("state") == "start" else "viewing")

    async def _watch(self, ticket_id: int) -> None:
        if ticket_id in self.watching:
            await self._presence(ticket_id, "viewing")
            return
        allowed = await database_sync_to_async(self._can_view)(ticket_id)
        if not allowed or len(self.watching) >= MAX_WATCHED:
            # Same answer for missing and hidden tickets.
            await self.send_json({"type": "error", "code": "not_found", "message": "No such ticket."})
            return
        self.watching.add(ticket_id)
        await self.channel_layer.group_add(realtime.ticket_group(ticket_id), self.channel_name)
        await self._presence(ticket_id, "viewing")

    def _can_view(self, ticket_id: int) -> bool:
        ticket = Ticket.objects.select_related("customer").filter(pk=ticket_id).first()
        return ticket is not None and TicketPolicy.can_view(self.user, ticket)

    async def _presence(self, ticket_id: int, state: str) -> None:
        await self.channel_layer.group_send(
            realtime.ticket_group(ticket_id),
            {
                "type": "carddesk.event",
                "event": {
                    "type": "presence",
                    "ticket": ticket_id,
                    "user": self.user.pk,
                    "name": self.display_name,
                    "state": state,
                },
            },
        )

    async def carddesk_event(self, message):
        event = message["event"]
        # A "viewing" from a newcomer asks the others to announce themselves, so both sides see each other.
        if event.get("type") == "presence" and event.get("state") == "viewing" and event.get("user") != self.user.pk:
            ticket_id = event.get("ticket")
            if ticket_id in self.watching and not event.get("reply"):
                await self.channel_layer.group_send(
                    realtime.ticket_group(ticket_id),
                    {
                        "type": "carddesk.event",
                        "event": {
                            "type": "presence",
                            "ticket": ticket_id,
                            "user": self.user.pk,
                            "name": self.display_name,
                            "state": "viewing",
                            "reply": True,
                        },
                    },
                )
        await self.send_json(event)
