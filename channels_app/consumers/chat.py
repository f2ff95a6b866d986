"""The customer's chat socket, `/ws/chat/?key=<widget public key>` — wire protocol v1 (docs/chat-protocol.md).

Delivery (DESIGN.md invariant 1): a message is committed with its seq before any frame mentions it; the sender
gets `ack {client_msg_id, seq}`; every `message` frame carries `seq` and `prev_seq` (the previous message the
customer may see), so a client detects a gap and says `hello {resume_after_seq}` again. This socket tracks the
last seq it delivered: a broadcast that continues it is sent as is, anything else is read from PostgreSQL, and
a ticker reads PostgreSQL when the channel layer has been quiet (a dropped event costs at most a few seconds).

The consumer validates frames and calls one service per frame; it never writes rows itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.http.request import validate_host
from django.utils import translation

from channels_app import selectors, services
from channels_app.consumers.framing import FrameError, TokenBucket, db, domain_error, message_fields, parse_frame
from channels_app.files import with_file_urls
from channels_app.models import ChatState
from channels_app.realtime import chat_group, waiting_group
from channels_app.tokens import TokenError, context_token_verify
from helpdesk import context, realtime
from tickets.errors import TicketError

logger = logging.getLogger(__name__)

CATCH_UP_SECONDS = 3.0  # read PostgreSQL when no event arrived for this long
STATUS_REFRESH_SECONDS = 15.0  # recompute queue position / ETA even without events (presence goes stale)
KINDS = {"hello", "message", "typing", "read", "end", "rate", "transcript", "deflect", "human", "ping"}


def origin_allowed(origin: str | None, allowed: list[str]) -> bool:
    """Browsers send Origin: it must be this desk's host or one the shop listed. Apps without one may connect."""
    if not origin:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return False
    if validate_host(parts.hostname, settings.ALLOWED_HOSTS):
        return True
    normalised = f"{parts.scheme}://{parts.netloc}".lower()
    return any(normalised == entry.rstrip("/").lower() for entry in allowed)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.widget = await db(selectors.widget_by_key)((query.get("key") or [""])[0])
        headers = dict(self.scope.get("headers") or [])
        origin = headers.get(b"origin", b"").decode("latin-1") or None
        # Accept, then close with the reason: a refused handshake would reach browsers only as code 1006.
        if self.widget is None:
            await self.accept()
            await self.close(code=4404)
            return
        if not origin_allowed(origin, self.widget.allowed_origins):
            await self.accept()
            await self.close(code=4403)
            return
        lang = (query.get("lang") or [""])[0]
        self.language = lang if lang in {"zh-hans", "en"} else self.widget.shop.default_language
        self.session_id: int | None = None
        self.ticket_id: int | None = None
        self.state = ""
        self.delivered = 0
        self.joined: set[str] = set()
        self.last_status: dict[str, Any] = {}
        self.typists: set[int] = set()
        self.frames = TokenBucket(rate=10, burst=30)
        self.messages = TokenBucket(rate=5, burst=20)
        self.typing_bucket = TokenBucket(rate=2, burst=4)
        self.quiet_since = asyncio.get_running_loop().time()
        self.status_at = self.quiet_since
        # The ticker runs beside the event handler: one lock keeps `message` frames in seq order, each sent once.
        self.delivering = asyncio.Lock()
        await self.accept()
        self.ticker = asyncio.create_task(self._tick())

    async def disconnect(self, code):
        ticker = getattr(self, "ticker", None)
        if ticker is not None:
            ticker.cancel()
        for group in list(getattr(self, "joined", ())):
            with contextlib.suppress(Exception):  # the layer may be down; the group entry expires
                await self.channel_layer.group_discard(group, self.channel_name)

    # --- frames in --------------------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            frame = parse_frame(text_data)
            if not self.frames.take():
                raise FrameError("rate_limited", "Too many frames; slow down.")
            kind = frame["type"]
            if kind not in KINDS:
                raise FrameError("malformed", f"Unknown frame type {kind[:30]!r}.")
            if kind not in {"hello", "ping"} and self.session_id is None:
                raise FrameError("hello_first", "Send hello first.")
            with translation.override(self.language), context.bound(request_id=context.new_request_id()):
                await getattr(self, f"on_{kind}")(frame)
        except FrameError as error:
            await self.send_json(error.frame)
        except TicketError as error:
            await self.send_json(domain_error(error, **self._echo(locals().get("frame"))))

    @staticmethod
    def _echo(frame: Any) -> dict[str, Any]:
        if isinstance(frame, dict) and isinstance(frame.get("client_msg_id"), str):
            return {"client_msg_id": frame["client_msg_id"][:64]}
        return {}

    async def on_ping(self, frame):
        await self.send_json({"type": "pong"})

    async def on_hello(self, frame):
        after = frame.get("resume_after_seq")
        if after is not None and (not isinstance(after, int) or isinstance(after, bool) or after < 0):
            raise FrameError("invalid", "resume_after_seq must be a non-negative integer.", field="resume_after_seq")
        if self.session_id is not None:  # a repeated hello asks for a refill after a gap
            await self._replay(after if after is not None else self.delivered, again=True)
            return
        opened = await db(self._open)(frame)
        session, resume_token = opened
        self.session_id = session.pk
        self.language = session.language
        await self._follow(session)
        await self._send_session(session, resume_token=resume_token)
        if session.ticket_id is not None:
            await self._replay(after if after is not None else 0, again=True)

    def _open(self, frame: dict[str, Any]):
        page_url = frame.get("page_url") if isinstance(frame.get("page_url"), str) else ""
        if frame.get("resume_token") is not None:
            session = selectors.session_by_resume_token(widget=self.widget, token=frame["resume_token"])
            if not services.resume_allowed(session):
                raise FrameError("resume_expired", "This conversation has ended; start a new one.")
            return session, frame["resume_token"]
        claims = None
        if frame.get("token") is not None:
            try:
                claims = context_token_verify(frame["token"], self.widget.shop.widget_secret.reveal())
            except TokenError as error:
                raise FrameError(error.code, error.message, field="token") from None
        prechat = services.Prechat.from_frame(frame["prechat"]) if frame.get("prechat") is not None else None
        user = self.scope.get("user")
        opened = services.chat_session_open(
            widget=self.widget,
            claims=claims,
            prechat=prechat,
            user=user if getattr(user, "is_authenticated", False) else None,
            language=self.language,
            page_url=page_url,
        )
        return opened.session, opened.resume_token

    async def on_message(self, frame):
        client_msg_id, body = message_fields(frame)
        if not self.messages.take():
            raise FrameError("rate_limited", "You are sending messages too fast.", client_msg_id=client_msg_id)
        sent = await db(services.chat_customer_message)(
            session_id=self.session_id, body=body, client_msg_id=client_msg_id
        )
        message = sent.result.message
        await self.send_json({"type": "ack", "client_msg_id": client_msg_id, "seq": message.seq})
        if sent.started:
            await self._follow(sent.session)
            await self._send_session(sent.session)
            await self._replay(self.delivered)
        if sent.result.created and sent.session.state in {ChatState.QUEUED, ChatState.MISSED}:
            await self._help_while_waiting(body)

    async def _help_while_waiting(self, text: str) -> None:
        """Knowledge-base suggestions for what was typed, and a bot answer for a recognised top intent."""
        from knowledge.selectors import kb_suggest

        articles = await db(kb_suggest)(text[:200], self.language, self.widget.shop, 3)
        if articles:
            await self.send_json({"type": "suggestions", "articles": articles})
        if self.state == ChatState.QUEUED:
            await db(services.chat_bot_answer)(session_id=self.session_id, text=text)

    async def on_typing(self, frame):
        if frame.get("state") not in {"start", "stop"}:
            raise FrameError("invalid", "typing needs state start or stop.", field="state")
        if self.ticket_id is None or not self.typing_bucket.take():
            return
        with contextlib.suppress(Exception):  # typing is best effort
            await self.channel_layer.group_send(
                realtime.ticket_group(self.ticket_id),
                {
                    "type": "carddesk.event",
                    "event": {
                        "type": "presence",
                        "ticket": self.ticket_id,
                        "user": None,
                        "kind": "customer",
                        "name": self.customer_name,
                        "state": "typing" if frame["state"] == "start" else "viewing",
                    },
                },
            )

    async def on_read(self, frame):
        seq = frame.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise FrameError("invalid", "read needs a non-negative integer seq.", field="seq")
        await db(services.chat_read)(session_id=self.session_id, side="customer", seq=seq)

    async def on_end(self, frame):
        session = await db(services.chat_end_by_customer)(session_id=self.session_id)
        await self._send_session(session)

    async def on_rate(self, frame):
        await db(services.chat_rate)(
            session_id=self.session_id, score=frame.get("score"), comment=frame.get("comment") or ""
        )
        await self.send_json({"type": "rated", "score": frame.get("score")})

    async def on_transcript(self, frame):
        address = await db(services.chat_transcript_send)(session_id=self.session_id, email=frame.get("email"))
        await self.send_json({"type": "transcript", "email": address})

    async def on_deflect(self, frame):
        session = await db(services.chat_deflect)(session_id=self.session_id, article_id=frame.get("article"))
        await self._send_session(session)

    async def on_human(self, frame):
        await db(services.chat_wants_human)(session_id=self.session_id)
        await self.send_json({"type": "human", "ok": True})

    # --- frames out -------------------------------------------------------------------------------------

    async def _follow(self, session) -> None:
        """Join the ticket's group (and the waiting room while queued); leave groups no longer relevant."""
        self.ticket_id = session.ticket_id
        self.state = session.state
        self.customer_name = str(session.customer)
        wanted = {chat_group(session.pk)}
        if session.ticket_id:
            wanted.add(realtime.ticket_group(session.ticket_id))
        if session.state == ChatState.QUEUED and session.queue_id:
            wanted.add(waiting_group(session.queue_id))
        for group in wanted - self.joined:
            try:
                await self.channel_layer.group_add(group, self.channel_name)
                self.joined.add(group)
            except Exception:  # the layer is down: the ticker keeps this socket current from PostgreSQL
                logger.warning("group_add %s failed", group, exc_info=True)
        for group in self.joined - wanted:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(group, self.channel_name)
            self.joined.discard(group)

    async def _send_session(self, session, *, resume_token: str | None = None) -> None:
        frame = await db(_session_frame)(session)
        self.status_at = asyncio.get_running_loop().time()
        if resume_token or frame != self.last_status:
            self.last_status = frame
            await self.send_json({**frame, "resume_token": resume_token} if resume_token else frame)

    async def _replay(self, after: int, *, again: bool = False) -> None:
        """Send the visible messages after `after` from PostgreSQL, in order.

        Catch-up (`again=False`) skips what this socket already sent; a client's own refill request
        (`hello {resume_after_seq}`) gets everything after its seq again, since it says it lacks it.
        """
        if self.ticket_id is None:
            return
        async with self.delivering:
            # The client holds everything up to `after`: live events continue from there even if nothing is newer.
            self.delivered = max(self.delivered, after)
            while True:
                payloads = await db(selectors.public_messages_after)(self.ticket_id, after)
                for payload in payloads:
                    after = payload["seq"]
                    if payload["seq"] <= self.delivered and not again:
                        continue
                    await self.send_json({"type": "message", **with_file_urls(payload, self.ticket_id)})
                    self.delivered = max(self.delivered, payload["seq"])
                if len(payloads) < selectors.REPLAY_LIMIT:
                    break

    async def _refresh_session(self) -> None:
        session = await db(selectors.session_get)(self.session_id)
        await self._follow(session)
        await self._send_session(session)

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                await asyncio.sleep(1.0)
                if self.session_id is None:
                    continue
                now = loop.time()
                try:
                    if self.ticket_id is not None and now - self.quiet_since >= CATCH_UP_SECONDS:
                        self.quiet_since = now
                        last = await db(selectors.last_public_seq)(self.ticket_id)
                        if last > self.delivered:
                            await self._replay(self.delivered)
                    if now - self.status_at >= STATUS_REFRESH_SECONDS:
                        await self._refresh_session()
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    if type(error).__name__ == "ClientDisconnected":  # uvicorn's: the socket is gone
                        return
                    logger.warning("chat catch-up failed", exc_info=True)
        except asyncio.CancelledError:
            pass

    # --- events from the channel layer ------------------------------------------------------------------

    async def carddesk_event(self, message):
        event = dict(message.get("event") or {})  # shared with other sockets of this process
        kind = event.get("type")
        if kind == "message.created" and event.get("ticket") == self.ticket_id:
            self.quiet_since = asyncio.get_running_loop().time()  # the layer is delivering messages
            if event.get("internal"):
                return
            payload = event.get("message")
            async with self.delivering:
                seq = event.get("seq", 0)
                if seq <= self.delivered:
                    return  # already sent (by a catch-up, or an earlier copy)
                if payload is not None and event.get("prev_public_seq") == self.delivered:
                    await self.send_json({"type": "message", **with_file_urls(payload, self.ticket_id)})
                    self.delivered = seq
                    return
            await self._replay(self.delivered)  # a gap: read the truth
        elif kind == "presence" and event.get("ticket") == self.ticket_id and event.get("kind") != "customer":
            event.pop("reply_to", None)
            user = event.get("user")
            if user is None:
                return
            if event.get("state") == "typing":
                state = "start"
                self.typists.add(user)
            elif user in self.typists:
                state = "stop"
                self.typists.discard(user)
            else:
                return
            await self.send_json(
                {"type": "typing", "state": state, "author": {"kind": "agent", "name": event.get("name")}}
            )
        elif kind == "chat.read" and event.get("ticket") == self.ticket_id and event.get("side") == "agent":
            await self.send_json({"type": "read", "seq": event.get("seq")})
        elif kind == "chat.session" and event.get("chat") == self.session_id:
            await self._refresh_session()
            await self._replay(self.delivered)
        elif kind == "chat.waiting" and self.state == ChatState.QUEUED:
            await self._refresh_session()


def _session_frame(session) -> dict[str, Any]:
    status = selectors.queue_status(session)
    agent = session.agent
    return {
        "type": "session",
        "chat": session.pk,
        "ticket": session.ticket.reference if session.ticket_id else None,
        "state": session.state,
        "queue_position": status.position,
        "eta_seconds": status.eta_seconds,
        "agents_available": status.agents_available,
        "agent": {"name": _agent_name(agent)} if agent is not None else None,
        "read_seq": session.agent_read_seq,
        "can_rate": session.state == ChatState.ENDED and session.ticket_id is not None,
    }


def _agent_name(user) -> str:
    profile = getattr(user, "agent_profile", None)
    return (profile.display_name if profile else "") or user.get_username()
