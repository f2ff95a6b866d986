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
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from websockets.exceptions import ConnectionClosed, WebSocketException

from tests.integration.chat_clients import console_connect, send
from tests.integration.chat_reliability_support import (
    CLIENTS,
    CYCLES,
    LOSE,
    AgentPoster,
    PrivateRedis,
    ReliableCustomer,
    _last_public_seq,
    allow_chats,
    asgi_servers,
    check_no_loss_no_duplicates,
    open_chat,
    report,
    settle,
    stop_server,
)
from tests.integration.conftest import session_cookie_for, start_asgi_server

pytestmark = pytest.mark.integration

CONNECT_ERRORS = (OSError, asyncio.TimeoutError, WebSocketException)


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
