"""The agent console's websocket: ticket events for what the agent may see, viewing/typing presence, and the
agent's side of live chat (send, read receipts, online/away).

Authorisation happens in `connect` (and per ticket in `watch`) through TicketPolicy, and again at most every
REAUTH_SECONDS while events and frames flow, so an agent removed from a queue or deactivated stops receiving
its events within about a second. The consumer calls services; it never writes rows itself. Events only
notify: the page fetches messages after its last `seq` over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model
from django.db import connection

from channels_app.consumers.framing import FrameError, TokenBucket, db, domain_error, message_fields
from helpdesk import context, realtime
from tickets.errors import TicketError
from tickets.models import Ticket
from tickets.permissions import TicketPolicy

logger = logging.getLogger(__name__)

MAX_WATCHED = 20
MAX_FRAME_CHARS = 16_384
REAUTH_SECONDS = 1.0
HEARTBEAT_SECONDS = 20.0
TICKET_FRAMES = {"watch", "unwatch", "typing", "message", "read"}
# What TicketPolicy.can_view reads, in the model's column order (Model.from_db takes values in that order).
_WATCHED_FIELDS = [
    f.attname
    for f in Ticket._meta.concrete_fields
    if f.attname in {"id", "queue_id", "shop_id", "assignee_id", "customer_id"}
]
# Table and column names come from model metadata; values are bound parameters.
_WATCHED_SQL = f'SELECT {", ".join(_WATCHED_FIELDS)} FROM "{Ticket._meta.db_table}" WHERE "id" = ANY(%s::bigint[])'  # noqa: S608


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        groups = await db(self._groups_for)(user)
        if groups is None:
            await self.close(code=4403)
            return
        self.user = user
        self.display_name = await db(self._display_name)(user)
        self.groups_joined = set(groups)
        self.watching: set[int] = set()
        self.authorised_at = asyncio.get_running_loop().time()
        self.fingerprint = await db(TicketPolicy.grants_fingerprint)(user.pk)
        self.closed = False
        self.frames = TokenBucket(rate=20, burst=60)
        self.presence = "online"
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        if await db(self._is_agent)():
            await db(_sockets_change)(self.user.pk, +1)
            self.presence = await db(self._presence_on_connect)()
            self.heartbeat = asyncio.create_task(self._heartbeat())

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

    def _is_agent(self) -> bool:
        return hasattr(self.user, "agent_profile") or TicketPolicy.scope(self.user).is_supervisor

    def _presence_on_connect(self) -> str:
        """Opening the console makes an offline agent available; an agent who chose "away" stays away."""
        from channels_app.services import agent_presence_set

        profile = getattr(self.user, "agent_profile", None)
        state = "online" if profile is None or profile.presence == "offline" else profile.presence
        agent_presence_set(actor=self.user, presence=state, heartbeat=True)
        return state

    async def _heartbeat(self) -> None:
        from channels_app.services import agent_presence_set

        with contextlib.suppress(asyncio.CancelledError):
            while True:
                await asyncio.sleep(HEARTBEAT_SECONDS)
                try:
                    await db(agent_presence_set)(actor=self.user, presence=self.presence, heartbeat=True)
                except Exception:
                    logger.warning("presence heartbeat failed", exc_info=True)

    async def disconnect(self, code):
        heartbeat = getattr(self, "heartbeat", None)
        if heartbeat is not None:
            heartbeat.cancel()
            from channels_app.services import agent_presence_set

            with contextlib.suppress(Exception):
                # Another tab (or the page that replaced this one) still holds the agent online.
                if await db(_sockets_change)(self.user.pk, -1) <= 0:
                    await db(agent_presence_set)(actor=self.user, presence="offline")
        for ticket_id in list(getattr(self, "watching", ())):
            await self._presence(ticket_id, "left")
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(realtime.ticket_group(ticket_id), self.channel_name)
        for group in getattr(self, "groups_joined", ()):
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(group, self.channel_name)

    # --- re-authorisation ---------------------------------------------------------------------------------

    async def _still_authorised(self) -> bool:
        """Re-read the user and their grants at most every REAUTH_SECONDS; leave what they may no longer see."""
        if self.closed:
            return False
        now = asyncio.get_running_loop().time()
        if now - self.authorised_at < REAUTH_SECONDS:
            return True
        self.authorised_at = now
        fresh, groups, visible = await db(self._reauthorise)()
        if groups is None:
            self.closed = True
            await self.close(code=4403)
            return False
        self.user = fresh
        for group in self.groups_joined - set(groups):
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(group, self.channel_name)
        for group in set(groups) - self.groups_joined:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = set(groups)
        for ticket_id in self.watching - visible:
            self.watching.discard(ticket_id)
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(realtime.ticket_group(ticket_id), self.channel_name)
        return True

    def _reauthorise(self):
        """One query when nothing changed (the grants' fingerprint), the full scope only when something did.

        Watched tickets are re-checked every time too: a ticket moved to another queue leaves the agent's sight
        without any grant changing.
        """
        fingerprint = TicketPolicy.grants_fingerprint(self.user.pk)
        if fingerprint is None:
            return None, None, set()
        if fingerprint == self.fingerprint:
            user, groups = self.user, sorted(self.groups_joined)
        else:
            user = get_user_model().objects.filter(pk=self.user.pk).select_related("agent_profile").first()
            groups = self._groups_for(user) if user is not None else None
            self.fingerprint = fingerprint
        if groups is None or not self.watching:
            return user, groups, set()
        # The columns the policy reads, written out (this runs every second per busy socket; the ORM-built
        # visible_to() query cost 5x the CPU), then TicketPolicy.can_view on each row.
        with connection.cursor() as cursor:
            cursor.execute(_WATCHED_SQL, [sorted(self.watching)])
            rows = [Ticket.from_db("default", _WATCHED_FIELDS, row) for row in cursor.fetchall()]
        return user, groups, {ticket.pk for ticket in rows if TicketPolicy.can_view(user, ticket)}

    # --- frames in ----------------------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Malformed or oversized frames get an error frame; the connection stays usable."""
        if not await self._still_authorised():
            return
        if text_data is None or len(text_data) > MAX_FRAME_CHARS:
            await self.send_json(
                {"type": "error", "code": "malformed", "message": "Send JSON text frames under 16 KB."}
            )
            return
        if not self.frames.take():
            await self.send_json({"type": "error", "code": "rate_limited", "message": "Too many frames; slow down."})
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
        if kind == "presence":
            await self._set_presence(content.get("state"))
            return
        if kind not in TICKET_FRAMES or not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
            await self.send_json({"type": "error", "code": "malformed", "message": "Unknown frame or missing ticket."})
            return
        if kind in {"message", "read"}:
            if ticket_id not in self.watching:  # watching is where visibility was checked
                await self.send_json(
                    {"type": "error", "code": "not_found", "message": "No such ticket.", "ticket": ticket_id}
                )
                return
            try:
                with context.bound(request_id=context.new_request_id()):
                    await (
                        self._send_message(ticket_id, content) if kind == "message" else self._read(ticket_id, content)
                    )
            except FrameError as error:
                await self.send_json({**error.frame, "ticket": ticket_id})
            except TicketError as error:
                extra = {"ticket": ticket_id}
                if isinstance(content.get("client_msg_id"), str):
                    extra["client_msg_id"] = content["client_msg_id"][:64]
                await self.send_json(domain_error(error, **extra))
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
        allowed = await db(self._can_view)(ticket_id)
        if not allowed or len(self.watching) >= MAX_WATCHED:
            # Same answer for missing and hidden tickets.
            await self.send_json({"type": "error", "code": "not_found", "message": "No such ticket."})
            return
        self.watching.add(ticket_id)
        await self.channel_layer.group_add(realtime.ticket_group(ticket_id), self.channel_name)
        await self._presence(ticket_id, "viewing")

    async def _send_message(self, ticket_id: int, content: dict) -> None:
        """A reply (or, with internal: true, a note) from the chat panel; acked with its seq once committed."""
        client_msg_id, body = message_fields(content)
        seq = await db(self._post)(ticket_id, body, client_msg_id, bool(content.get("internal")))
        await self.send_json({"type": "ack", "ticket": ticket_id, "client_msg_id": client_msg_id, "seq": seq})

    def _post(self, ticket_id: int, body: str, client_msg_id: str, internal: bool) -> int:
        from tickets.services import agent_reply_post, internal_note_post

        post = internal_note_post if internal else agent_reply_post  # they read the ticket under its lock
        return post(ticket=ticket_id, actor=self.user, body=body, client_msg_id=client_msg_id).message.seq

    async def _read(self, ticket_id: int, content: dict) -> None:
        seq = content.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise FrameError("invalid", "read needs a non-negative integer seq.", field="seq")
        await db(self._mark_read)(ticket_id, seq)

    @staticmethod
    def _mark_read(ticket_id: int, seq: int) -> None:
        from channels_app.models import ChatSession
        from channels_app.services import chat_read

        session_id = ChatSession.objects.filter(ticket_id=ticket_id).values_list("pk", flat=True).first()
        if session_id is not None:
            chat_read(session_id=session_id, side="agent", seq=seq)

    async def _set_presence(self, state) -> None:
        from channels_app.services import agent_presence_set

        if state not in {"online", "away", "offline"}:
            await self.send_json(
                {"type": "error", "code": "invalid", "message": "presence is online, away or offline."}
            )
            return
        self.presence = state
        await db(agent_presence_set)(actor=self.user, presence=state)
        await self.send_json({"type": "presence.me", "state": state})

    def _can_view(self, ticket_id: int) -> bool:
        ticket = Ticket.objects.select_related("customer").filter(pk=ticket_id).first()
        return ticket is not None and TicketPolicy.can_view(self.user, ticket)

    async def _presence(self, ticket_id: int, state: str, *, reply_to: str | None = None) -> None:
        event = {
            "type": "presence",
            "ticket": ticket_id,
            "user": self.user.pk,
            "name": self.display_name,
            "state": state,
        }
        if reply_to is not None:  # an answer to a newcomer: to its socket alone
            event["reply"] = True
            await self.channel_layer.send(reply_to, {"type": "carddesk.event", "event": event})
            return
        if state == "viewing":
            event["reply_to"] = self.channel_name  # those already here announce themselves to this socket only
        await self.channel_layer.group_send(
            realtime.ticket_group(ticket_id), {"type": "carddesk.event", "event": event}
        )

    async def carddesk_event(self, message):
        if not await self._still_authorised():
            return
        event = dict(message["event"])  # shared with the other sockets of this process: never mutate it
        ticket_id = event.get("ticket")
        if event.get("type") in {"message.created", "presence", "chat.read"} and ticket_id not in self.watching:
            return  # a ticket this socket no longer watches (unwatched, or no longer visible)
        # A "viewing" from a newcomer asks the others to announce themselves, to the newcomer alone (so a
        # ticket with k viewers costs k frames per arrival, not k²).
        reply_to = event.pop("reply_to", None) if event.get("type") == "presence" else None
        newcomer = reply_to and event.get("state") == "viewing" and event.get("user") != self.user.pk
        if newcomer and ticket_id in self.watching and event.get("kind") != "customer":
            await self._presence(ticket_id, "viewing", reply_to=reply_to)
        await self.send_json(event)


def _sockets_change(user_id: int, delta: int) -> int:
    """How many console sockets this agent has open (a Redis counter; if Redis lost it, we count from zero)."""
    from django.core.cache import cache

    key = f"console-sockets:{user_id}"
    cache.add(key, 0, timeout=24 * 3600)
    try:
        return cache.incr(key, delta) if delta > 0 else cache.decr(key, -delta)
    except ValueError:
        return 0
