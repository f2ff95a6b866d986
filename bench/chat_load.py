"""Live chat under load: customer/agent pairs and a many-member burst, beside websocket and Redis floors.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carddesk_chatbench REDIS_URL=redis://127.0.0.1:6379/9 \\
    .venv/bin/python bench/chat_load.py [--pairs 100] [--rate 400] [--seconds 20] [--burst-members 100] [--quick]

Migrates a dedicated database, creates a shop, widget, queue and agents through the project's models, starts
uvicorn on it (or uses --url), opens `pairs` customer chats (each accepted through chat_accept) and the agents'
console sockets watching them, and sends messages both ways at the target rate, timing send → the other side's
frame. Same run: a websocket echo and a Redis PUBLISH → SUBSCRIBE round trip (the floors), and a burst into one
chat watched by `burst-members` consoles. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import logging
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import websockets
from websockets.protocol import State

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._db import connect, database_config, dedicated_database_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NAME, MARKER, PREFIX = "carddesk_chatbench", "carddesk-chatbench", "bench-chat-"  # PREFIX: shops, users
REFUSED_NAMES = {"carddesk", "postgres", "template0", "template1"}
SECRET = "bench-chat-widget-secret-0123456789abcdef"  # noqa: S105  (signs the bench's own context tokens)
MESSAGE_ID = re.compile(r"\bload ([abc]\d+-\d+)\b")
MAX_FRAMES = 5_000_000  # per socket: the bound of every read loop, far above what a run sees
LIMITS = {"customer": 5.0, "console": 20.0}  # messages (frames) per second the sockets' token buckets allow
FULL = {"pairs": 100, "rate": 400.0, "seconds": 20.0, "burst_members": 100, "burst_messages": 100, "rounds": 2000}
QUICK = {"pairs": 10, "rate": 40.0, "seconds": 5.0, "burst_members": 10, "burst_messages": 20, "rounds": 300}
SETUP_SECONDS, DRAIN_SECONDS, FRAME_TIMEOUT, QUIET_SECONDS = 240.0, 60.0, 60.0, 240.0
CONNECT = {"open_timeout": 60, "ping_interval": None}  # like a browser: no client pings (the server pings)
GONE = (OSError, RuntimeError, TimeoutError, websockets.WebSocketException)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name, kind, text in [
        ("pairs", int, "customer/agent pairs, two sockets each"),
        ("rate", float, "aggregate messages per second, both directions"),
        ("seconds", float, "how long the pairs send"),
        ("burst-members", int, "console sockets watching the burst's chat"),
        ("burst-messages", int, "messages in the burst, posted by the members in turn"),
        ("rounds", int, "round trips of each floor"),
    ]:
        key = name.replace("-", "_")
        parser.add_argument(f"--{name}", type=kind, help=f"{text} (default {FULL[key]:g}, --quick {QUICK[key]:g})")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn processes of the server it starts (default 1)")
    parser.add_argument("--url", help="a running server (http://127.0.0.1:8000) on the same DATABASE_URL and Redis")
    parser.add_argument("--quick", action="store_true", help="small numbers for a smoke run")
    args = parser.parse_args()
    for key, value in (QUICK if args.quick else FULL).items():
        setattr(args, key, value if getattr(args, key) is None else getattr(args, key))
    return args


def prepare_database() -> tuple[str, str, object]:
    """The dedicated database, marked by a comment naming the migrations it was built from and rebuilt when they
    change (the project edits its initial migrations); refused if it holds data the bench did not write."""
    from psycopg import sql

    url = dedicated_database_url(DEFAULT_NAME, REFUSED_NAMES, "it writes chats, tickets and agents")
    name = database_config(url)["NAME"]
    lock = connect(url, "postgres")  # held until the process exits: a second run would take this one's agents
    if not lock.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [f"{MARKER}:{name}"]).fetchone()[0]:
        raise SystemExit(f"Another chat_load run is using {name}; wait for it or set another DATABASE_URL.")
    migrations = b"".join(path.read_bytes() for path in sorted(ROOT.glob("*/migrations/0*.py")))
    wanted = f"{MARKER} migrations={hashlib.sha256(migrations).hexdigest()[:12]}"
    with connect(url, "postgres") as conn:
        query = "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s"
        row = conn.execute(query, [name]).fetchone()
    if row is not None:
        with connect(url, name) as conn:
            foreign = conn.execute("SELECT to_regclass('tickets_ticket') IS NOT NULL").fetchone()[0] and conn.execute(
                "SELECT EXISTS (SELECT 1 FROM tickets_ticket t JOIN helpdesk_shop s ON s.id = t.shop_id WHERE s.slug "
                "NOT LIKE %s) OR EXISTS (SELECT 1 FROM auth_user WHERE username NOT LIKE %s)", [PREFIX + "%"] * 2
            ).fetchone()[0]  # fmt: skip
        marker = row[0] or ""
        if foreign:
            raise SystemExit(f"Refusing: database {name!r} holds tickets or users the bench did not create.")
        if marker == wanted:
            return url, wanted, lock
        if marker.startswith(MARKER):  # ours, built from other migrations
            with connect(url, "postgres") as conn:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            print(f"dropped database {name}: the migrations changed")
            row = None
    if row is None:
        with connect(url, "postgres") as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"created database {name}")
    return url, wanted, lock


def migrate(url: str, marker: str, own_server: bool) -> dict[str, str]:
    from psycopg import sql

    redis = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/9"
    os.environ.update({"DJANGO_SETTINGS_MODULE": "helpdesk.settings.local", "DATABASE_URL": url, "REDIS_URL": redis,
                       "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost"})  # fmt: skip
    if own_server:  # pub/sub ignores Redis db numbers: a prefix of its own keeps other servers' groups apart
        os.environ.setdefault("CHANNEL_LAYER_PREFIX", "carddesk-chatbench")
    command = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]
    subprocess.run(command, cwd=ROOT, env=os.environ, check=True, timeout=900)  # noqa: S603
    with connect(url, "postgres") as conn:
        name = sql.Identifier(database_config(url)["NAME"])
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(name, sql.Literal(marker)))
    return dict(os.environ)


def start_server(env: dict[str, str], workers: int = 1) -> tuple[subprocess.Popen, str, Path]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = Path(tempfile.gettempdir()) / f"chat_load-uvicorn-{port}.log"
    # As `up` runs it (no permessage-deflate: see README).
    command = [sys.executable, "-m", "uvicorn", "helpdesk.asgi:application", "--host", "127.0.0.1", "--port",
               str(port), "--lifespan", "off", "--log-level", "warning", "--no-access-log",
               "--workers", str(workers), "--ws-per-message-deflate", "false"]  # fmt: skip
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):  # 60 s at most
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:  # noqa: S310
            if response.status == 200:
                return process, url, log
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"uvicorn did not become healthy; see {log}:\n{log.read_text()[-2000:]}")


def seed(agent_count: int, run: str) -> tuple[str, list]:
    """A fresh shop, queue and widget per run; agents (reused) granted only this queue, online, logged in."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client
    from django.utils import timezone
    from guardian.models import UserObjectPermission
    from guardian.shortcuts import assign_perm

    from channels_app.models import ChatWidget
    from helpdesk.models import Shop
    from helpdesk.roles import GROUP_NAMES, Role, roles_sync
    from tickets.models import AgentProfile, Queue

    roles_sync()
    User = get_user_model()
    Queue.objects.filter(slug__startswith=PREFIX).update(is_active=False)  # earlier runs' chats stay out of the way
    UserObjectPermission.objects.filter(user__username__startswith=PREFIX).delete()
    shop = Shop.objects.create(name=f"Bench chat {run}", slug=f"{PREFIX}{run}", widget_secret=SECRET)
    queue = Queue.objects.create(name=f"Bench chat {run}", slug=f"{PREFIX}{run}", shop=shop)
    widget = ChatWidget.objects.create(shop=shop, queue=queue, bot_enabled=False)
    group, agents = Group.objects.get(name=GROUP_NAMES[Role.AGENT]), []
    for i in range(agent_count):
        defaults = {"email": f"agent{i}@bench.example", "is_staff": True}
        user, created = User.objects.get_or_create(username=f"{PREFIX}agent-{i:03d}", defaults=defaults)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(group)
        # Fresh for an hour (the consoles' heartbeat keeps it fresh once they connect): chats find agents online.
        ahead = timezone.now() + timedelta(hours=1)
        profile = {"display_name": f"Agent {i}", "presence": "online", "presence_changed_at": ahead,
                   "max_concurrent_chats": 1000}  # fmt: skip
        AgentProfile.objects.update_or_create(user=user, defaults=profile)
        assign_perm("tickets.work_queue", user, queue)
        client = Client()
        client.force_login(user)
        agents.append((User.objects.get(pk=user.pk), client.cookies["sessionid"].value))
    return widget.public_key, agents


class Probe:
    """PostgreSQL's view of the server, sampled every 0.2 s (sessions opened, commits, backends connected/active),
    and the server's CPU time."""

    QUERY = (
        "SELECT sessions, xact_commit, (SELECT count(*) FROM pg_stat_activity a WHERE a.datid = d.datid AND a.pid <> "
        "pg_backend_pid()), (SELECT count(*) FILTER (WHERE state = 'active') FROM pg_stat_activity a WHERE a.datid "
        "= d.datid AND a.pid <> pg_backend_pid()) FROM pg_stat_database d WHERE d.datname = %s"
    )

    def __init__(self, url: str, pid: int | None):
        self.name, self.pid = database_config(url)["NAME"], pid
        self.conn = connect(url, self.name)

    def cpu(self) -> float:
        """CPU seconds of the server and its worker processes (uvicorn --workers forks them)."""
        if not self.pid:
            return 0.0
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if stat.parent.name == str(self.pid) or fields[1] == str(self.pid):  # itself or a child
                    ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    async def sample(self, stop: asyncio.Event) -> dict:
        """Until `stop` is set; the counters 1.5 s later (backends flush their statistics as they exit)."""
        seen, cpu, started = [], self.cpu(), time.perf_counter()
        fetch = lambda: self.conn.execute(self.QUERY, [self.name]).fetchone()  # noqa: E731
        for _ in range(100_000):
            seen.append(await asyncio.to_thread(fetch))
            if stop.is_set():
                break
            await asyncio.sleep(0.2)
        busy = (self.cpu() - cpu) / (time.perf_counter() - started) if self.pid else None
        await asyncio.sleep(1.5)
        last = await asyncio.to_thread(fetch)
        return {"sessions": last[0] - seen[0][0], "commits": last[1] - seen[0][1], "cpu": busy,
                "backends": f"{max(x[2] for x in seen)}/{max(x[3] for x in seen)}"}  # fmt: skip


def summary(samples) -> dict:
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0}
    p99 = ordered[max(0, min(len(ordered) - 1, round(0.99 * len(ordered) + 0.5) - 1))]
    return {"n": len(ordered), "p50": statistics.median(ordered), "p99": p99, "mean": statistics.fmean(ordered),
            "max": ordered[-1]}  # fmt: skip


@dataclass
class Flow:
    """One kind of message: when each was sent, its ack latency, and each (receiver, message) delivery."""

    receivers: int = 1
    sent: dict[str, float] = field(default_factory=dict)
    acked: dict[str, float] = field(default_factory=dict)
    deliveries: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    last_delivery: float = 0.0

    def deliver(self, receiver: str, message_id: str, now: float) -> None:
        if message_id in self.sent:
            self.deliveries[receiver, message_id] += 1
            if self.deliveries[receiver, message_id] == 1:
                self.latencies.append((now - self.sent[message_id]) * 1000)
                self.last_delivery = max(self.last_delivery, now)

    def complete(self) -> bool:
        return len(self.acked) >= len(self.sent) and len(self.deliveries) >= len(self.sent) * self.receivers

    def counts(self) -> dict:
        twice = sorted({r for (r, _), n in self.deliveries.items() if n > 1})
        return {"sent": len(self.sent), "acked": len(self.acked), "delivered": len(self.deliveries),
                "lost": len(self.sent) * self.receivers - len(self.deliveries),
                "duplicated": sum(n - 1 for n in self.deliveries.values()), "duplicated_at": twice[:5]}  # fmt: skip


@dataclass
class Run:
    flows: dict[str, Flow] = field(default_factory=lambda: {"c": Flow(), "a": Flow(), "b": Flow()})
    errors: Counter = field(default_factory=Counter)
    events: Counter = field(default_factory=Counter)
    watches: dict = field(default_factory=dict)  # (user id, ticket id) -> future the console's reader resolves
    tasks: list = field(default_factory=list)

    def ack(self, message_id, now: float) -> None:
        flow = self.flows.get(message_id[:1]) if isinstance(message_id, str) else None
        if flow is not None and message_id in flow.sent and message_id not in flow.acked:
            flow.acked[message_id] = (now - flow.sent[message_id]) * 1000


async def send(ws, **frame) -> None:
    await ws.send(json.dumps(frame, ensure_ascii=False))


async def expect(ws, predicate, what: str, timeout: float = FRAME_TIMEOUT) -> dict:
    async with asyncio.timeout(timeout):
        for _ in range(10_000):
            frame = json.loads(await ws.recv())
            if predicate(frame):
                return frame
    raise RuntimeError(f"no {what} frame among 10,000")


async def read(ws, name: str, side: str, run: Run, user_id: int | None = None) -> None:
    """One socket's frames: acks, errors, and the messages of the other side (found by the id in the body)."""
    last_seq, seqs = None, set()
    for _ in range(MAX_FRAMES):
        try:
            frame, now = json.loads(await ws.recv()), time.perf_counter()
        except websockets.ConnectionClosed as closed:  # the server's close (or none at all), not the bench's
            run.errors[f"{side} socket closed {closed.rcvd.code if closed.rcvd else 1006}"] += (
                closed.rcvd_then_sent is not False
            )
            return
        kind = frame.get("type")
        run.events[f"{side} {kind}"] += 1
        if kind == "ack":
            run.ack(frame.get("client_msg_id"), now)
        elif kind == "error":
            run.errors[f"{side} {frame.get('code')}"] += 1
        elif kind == "message":  # customer socket: agents' messages; does prev_seq continue the thread?
            run.events["customer seq gap"] += last_seq is not None and frame.get("prev_seq") != last_seq
            run.events["customer seq repeated"] += frame.get("seq") in seqs
            last_seq = frame.get("seq")
            seqs.add(last_seq)
            found = MESSAGE_ID.search(frame.get("body") or "")
            if found and found[1][0] in "ab" and (frame.get("author") or {}).get("kind") != "customer":
                run.flows[found[1][0]].deliver(name, found[1], now)
        elif kind == "message.created" and frame.get("message"):  # console: customers' messages and the burst
            found = MESSAGE_ID.search(frame["message"].get("body") or "")
            if found and found[1][0] in "cb":
                run.flows[found[1][0]].deliver(name, found[1], now)
        elif kind == "presence" and frame.get("user") == user_id:
            waiter = run.watches.pop((user_id, frame.get("ticket")), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)


async def open_console(http_url: str, agent, cookie: str, run: Run):
    headers = {"Cookie": f"sessionid={cookie}", "Origin": http_url}
    ws = await websockets.connect("ws" + http_url[4:] + "/ws/console/", additional_headers=headers, **CONNECT)
    run.tasks.append(asyncio.create_task(read(ws, f"console-{agent.pk}", "console", run, agent.pk)))
    return ws


async def open_chat(http_url: str, key: str, name: str, agent, run: Run):
    """A customer says hello with a signed token and sends a first message; `agent` accepts the chat."""
    from asgiref.sync import sync_to_async

    from channels_app.services import chat_accept
    from channels_app.tokens import context_token_sign

    url = "ws" + http_url[4:] + f"/ws/chat/?key={key}&lang=zh-hans"
    ws = await websockets.connect(url, additional_headers={"Origin": http_url}, **CONNECT)
    claims = {"sub": f"{name}-{uuid.uuid4().hex[:8]}", "name": name, "email": f"{name}@bench.example",
              "exp": int(time.time()) + 3600}  # fmt: skip
    await send(ws, type="hello", token=context_token_sign(claims, SECRET))
    hello = await expect(ws, lambda f: f.get("type") in {"session", "error"}, "session")
    if hello["type"] == "error":
        raise RuntimeError(f"hello refused: {hello}")
    await send(ws, type="message", client_msg_id="first", body="你好，付款成功但没有收到卡密")
    queued = await expect(ws, lambda f: f.get("type") == "session" and f.get("state") != "new", "queued session")
    if queued["state"] != "queued":
        raise RuntimeError(f"the chat went {queued['state']!r} (no agent online?)")
    ticket_id = (await sync_to_async(chat_accept)(session_id=queued["chat"], actor=agent)).ticket_id
    run.tasks.append(asyncio.create_task(read(ws, name, "customer", run)))
    return ws, ticket_id


async def watch(ws, user_id: int, ticket_id: int, run: Run, timeout: float = FRAME_TIMEOUT) -> bool:
    """Watch a ticket; True once the console saw its own "viewing" presence come back."""
    waiter = asyncio.get_running_loop().create_future()
    run.watches[user_id, ticket_id] = waiter
    try:
        await send(ws, type="watch", ticket=ticket_id)
        async with asyncio.timeout(timeout):
            await waiter
        return True
    except (TimeoutError, websockets.ConnectionClosed) as error:
        run.errors[f"console watch {type(error).__name__}"] += 1
        return False


async def quiesce(http_url: str, key: str) -> float:
    """Seconds until the server is idle again: a new chat socket (its accept reads the widget through the same
    database thread as every socket's work) answers a ping within 0.25 s."""
    started = time.perf_counter()
    for _ in range(int(QUIET_SECONDS)):
        attempt = time.perf_counter()
        with contextlib.suppress(*GONE):
            async with (
                asyncio.timeout(QUIET_SECONDS),
                websockets.connect(
                    "ws" + http_url[4:] + f"/ws/chat/?key={key}", additional_headers={"Origin": http_url}, **CONNECT
                ) as ws,
            ):
                await send(ws, type="ping")
                await expect(ws, lambda f: f.get("type") == "pong", "pong")
            if time.perf_counter() - attempt < 0.25 or time.perf_counter() - started > QUIET_SECONDS:
                break
        await asyncio.sleep(0.5)
    return time.perf_counter() - started


async def sender(ws, prefix: str, rate: float, start: float, seconds: float, flow: Flow, ticket=None) -> None:
    """Open loop: message k is due at start + offset + k / rate, whatever the answers do; none after the window."""
    offset, end = random.random() / rate, start + seconds
    for k in range(int(seconds * rate)):
        delay = start + offset + k / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if time.perf_counter() > end:
            return  # the socket is backed up: what was not sent in the window is not sent
        message_id = f"{prefix}-{k}"
        frame = {"type": "message", "client_msg_id": message_id, "body": f"load {message_id} 请问卡密什么时候到账"}
        flow.sent[message_id] = time.perf_counter()
        try:
            async with asyncio.timeout(max(0.1, end - time.perf_counter())):
                await ws.send(json.dumps(frame | ({"ticket": ticket} if ticket else {}), ensure_ascii=False))
        except TimeoutError:
            continue
        except websockets.ConnectionClosed:
            return


async def settle(condition, timeout: float) -> float:
    started = time.perf_counter()
    for _ in range(int(timeout / 0.05)):
        if condition():
            break
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


async def floors(rounds: int, redis_url: str) -> dict:
    """Round trips without the product: the same websockets library echoing on loopback, and Redis pub/sub."""
    import redis.asyncio as redis

    async def echo(ws):
        with contextlib.suppress(websockets.ConnectionClosed):
            for _ in range(rounds + 10):
                await ws.send(await ws.recv())

    frame = json.dumps({"type": "message", "seq": 12, "body": "load c1-1 请问卡密什么时候到账" * 3}, ensure_ascii=False)
    echoes, published = [], []
    server = await websockets.serve(echo, "127.0.0.1", 0)
    async with server, websockets.connect(f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/") as ws:
        for _ in range(rounds):
            started = time.perf_counter()
            await ws.send(frame)
            await ws.recv()
            echoes.append((time.perf_counter() - started) * 1000)
    client = redis.Redis.from_url(redis_url)
    channel, pubsub = f"chat-load-{uuid.uuid4().hex}", client.pubsub()
    await pubsub.subscribe(channel)
    await pubsub.get_message(timeout=1.0)  # the subscribe confirmation
    for i in range(rounds):
        started = time.perf_counter()
        await client.publish(channel, str(i))
        for _ in range(50):
            if await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1) is not None:
                break
        published.append((time.perf_counter() - started) * 1000)
    await pubsub.aclose()
    await client.aclose()
    return {"echo": summary(echoes[10:]), "redis": summary(published[10:])}


async def pairs_phase(args, key: str, agents: list, http_url: str, probe: Probe, run: Run, out: dict) -> list:
    """Open the chats (each accepted by its agent), then the agents' consoles watching them; both sides send.

    Chats first: with the consoles open, each chat that starts or is accepted sends every console a queue event,
    on which each one re-authorises (opened that way, 100 pairs did not come up within 4 minutes)."""
    gate, started = asyncio.Semaphore(10), time.perf_counter()

    async def guarded(step, *arguments):
        async with gate:
            if time.perf_counter() - started > SETUP_SECONDS:
                run.errors["setup skipped: over time"] += 1
                return None
            try:
                return await step(*arguments)
            except GONE as error:
                code = getattr(getattr(error, "rcvd", None), "code", "")
                run.errors[f"setup {type(error).__name__} {code}".strip()] += 1

    async def console_watching(agent, cookie, ticket):
        console = await open_console(http_url, agent, cookie, run)
        return console if await watch(console, agent.pk, ticket, run) else None

    chats = [guarded(open_chat, http_url, key, f"c{i}", agents[i][0], run) for i in range(args.pairs)]
    chats = await asyncio.gather(*chats)
    chats_seconds, opened = time.perf_counter() - started, [(i, chat) for i, chat in enumerate(chats) if chat]
    consoles = await asyncio.gather(*(guarded(console_watching, *agents[i], chat[1]) for i, chat in opened))
    pairs = [(ws, *chat, agents[i][0]) for (i, chat), ws in zip(opened, consoles, strict=True) if ws]
    out["setup"] = {"pairs": len(pairs), "seconds": time.perf_counter() - started, "chats_seconds": chats_seconds}
    if not pairs:
        raise SystemExit(f"no pair could be set up: {dict(run.errors)}")
    out["setup"]["quiet_after"] = await quiesce(http_url, key)
    rate = args.rate / (2 * args.pairs)  # per socket, as planned: half the messages go each way
    for side, limit in LIMITS.items():
        if rate > 0.9 * limit:
            print(f"warning: {rate:.1f} msg/s per socket is near the {side} socket's limit of {limit:g}/s")
    if len(pairs) < args.pairs:
        print(f"warning: {len(pairs)} of {args.pairs} pairs came up: offering {2 * rate * len(pairs):g} msg/s")
    c, a, stop, start = run.flows["c"], run.flows["a"], asyncio.Event(), time.perf_counter() + 0.5
    sampler = asyncio.create_task(probe.sample(stop))
    await asyncio.gather(
        *(sender(p[1], f"c{i}", rate, start, args.seconds, c) for i, p in enumerate(pairs)),
        *(sender(p[0], f"a{i}", rate, start, args.seconds, a, p[2]) for i, p in enumerate(pairs)),
    )
    end = time.perf_counter()
    drain = await settle(lambda: c.complete() and a.complete(), DRAIN_SECONDS)
    stop.set()
    last = max(c.last_delivery, a.last_delivery)
    out["pairs"] = {"rate": rate, "sent_per_s": (len(c.sent) + len(a.sent)) / (end - start), "drain": drain,
                    "delivered_per_s": (len(c.deliveries) + len(a.deliveries)) / max(1e-9, last - start),
                    "c2a": summary(c.latencies), "a2c": summary(a.latencies), "c_ack": summary(c.acked.values()),
                    "a_ack": summary(a.acked.values()), "both": summary(c.latencies + a.latencies),
                    "counts": {"customer → agent": c.counts(), "agent → customer": a.counts()},
                    "db": await sampler, "errors": dict(run.errors)}  # fmt: skip
    run.errors.clear()
    return pairs


async def burst_phase(args, key: str, agents: list, http_url: str, probe: Probe, pairs: list, run: Run, out: dict):
    """Once the server is idle again: one chat watched by `burst_members` consoles (the pairs' open ones, new ones
    for the rest), then the members post `burst_messages` at once, in turn."""
    out["burst"] = burst = {"n": 0, "members": 0, "counts": Flow().counts(), "db": None}
    burst["quiet_after_pairs"] = await quiesce(http_url, key)
    members = [(p[0], p[3]) for p in pairs if p[0].state is State.OPEN][: args.burst_members]
    used = {agent.pk for _, agent in members}
    for agent, cookie in [a for a in agents if a[0].pk not in used][: args.burst_members - len(members)]:
        with contextlib.suppress(*GONE):
            members.append((await open_console(http_url, agent, cookie, run), agent))
    customer, ticket = await open_chat(http_url, key, "burst", members[0][1], run)
    presence0, started = run.events["console presence"], time.perf_counter()
    watched = await asyncio.gather(*(watch(ws, agent.pk, ticket, run, 120) for ws, agent in members))
    burst["watch_seconds"], seen = time.perf_counter() - started, []
    for _ in range(int(QUIET_SECONDS)):  # until no presence frame came for 2 s
        seen.append(run.events["console presence"])
        if len(seen) > 2 and seen[-1] == seen[-3]:
            break
        await asyncio.sleep(1.0)
    burst["quiet_seconds"] = time.perf_counter() - started if seen[-1] == seen[-3:][0] else None
    burst["presence_frames"] = run.events["console presence"] - presence0
    members = [m for m, ok in zip(members, watched, strict=True) if ok]
    flow, stop = run.flows["b"], asyncio.Event()
    flow.receivers = len(members) + 1  # every watching console and the customer
    sampler = asyncio.create_task(probe.sample(stop))

    async def post(k: int) -> None:
        flow.sent[f"b0-{k}"] = time.perf_counter()
        body = f"load b0-{k} 已为您补发卡密"
        await send(members[k % len(members)][0], type="message", ticket=ticket, client_msg_id=f"b0-{k}", body=body)

    started = time.perf_counter()
    await asyncio.gather(*(post(k) for k in range(args.burst_messages if members else 0)))
    await settle(flow.complete, DRAIN_SECONDS)
    stop.set()
    burst |= {**summary(flow.latencies), "members": len(members), "counts": flow.counts(), "db": await sampler,
              "all_delivered_ms": (flow.last_delivery - started) * 1000 if flow.last_delivery else None}  # fmt: skip
    await customer.close()


async def measure(args, key: str, agents: list, http_url: str, probe: Probe) -> dict:
    out, run = await floors(args.rounds, os.environ["REDIS_URL"]), Run()
    try:
        pairs = await pairs_phase(args, key, agents, http_url, probe, run, out)
        with contextlib.suppress(*GONE):
            await burst_phase(args, key, agents, http_url, probe, pairs, run, out)
        out["burst"]["errors"], out["events"] = dict(run.errors), dict(run.events)
        for ws in [x for p in pairs for x in p[:2]]:
            await ws.close()
    finally:
        for task in run.tasks:
            task.cancel()
        await asyncio.gather(*run.tasks, return_exceptions=True)
    return out


def report(args, out: dict, log: Path | None) -> None:
    def ms(value, digits=2):
        return "" if value is None else f"{value:,.{digits}f}"

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    pairs, burst, setup, events = out["pairs"], out["burst"], out["setup"], out["events"]
    both, echo, members = pairs["both"], out["echo"], burst["members"] + 1
    print(f"\n{setup['pairs']} pairs ({2 * setup['pairs']} sockets) up in {setup['seconds']:.1f} s (chats "
          f"{setup['chats_seconds']:.1f} s), server idle {setup['quiet_after']:.1f} s later; {args.rate:g} msg/s "
          f"offered for {args.seconds:g} s = {pairs['rate']:.2f} msg/s per socket\n")  # fmt: skip
    print("| measurement | n | p50 ms | p99 ms | mean ms | max ms |\n| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, s in [("websocket echo round trip, loopback (floor)", echo),
                    ("Redis PUBLISH → SUBSCRIBE (floor)", out["redis"]),
                    ("chat customer → agent (message.created)", pairs["c2a"]),
                    ("chat agent → customer (message)", pairs["a2c"]), ("chat, both directions", both),
                    ("customer send → ack", pairs["c_ack"]), ("agent send → ack", pairs["a_ack"]),
                    (f"burst: {args.burst_messages} messages × {members} members", burst)]:  # fmt: skip
        print(f"| {name} | {s['n']:,} | " + " | ".join(ms(s.get(k)) for k in ("p50", "p99", "mean", "max")) + " |")
    if both["n"]:
        ratio = both["p99"] / echo["p99"]
        print(f"\nchat p99 / echo p99 = {ratio:,.1f}× (target ≤ 30×: {met(ratio <= 30)}); chat mean "
              f"{both['mean']:,.2f} ms (target ≤ 10 ms: {met(both['mean'] <= 10)}); chat p99 / Redis p99 = "
              f"{both['p99'] / out['redis']['p99']:,.1f}×")  # fmt: skip
    if burst["n"]:
        print(f"burst mean {burst['mean']:,.1f} ms (target < 500 ms: {met(burst['mean'] < 500)}); all delivered "
              f"{ms(burst['all_delivered_ms'], 0)} ms after the first send")  # fmt: skip
    print(f"achieved: offered {args.rate:g} msg/s, sent {pairs['sent_per_s']:,.1f} msg/s, delivered "
          f"{pairs['delivered_per_s']:,.1f} msg/s; waited {pairs['drain']:.1f} s after the last send")  # fmt: skip
    print("\n| messages | sent | acked | delivered | lost | duplicated |\n| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, c in [*pairs["counts"].items(), (f"burst, to {members} members", burst["counts"])]:
        twice = f" ({', '.join(c['duplicated_at'])})" if c["duplicated_at"] else ""
        cells = " | ".join(f"{c[k]:,}" for k in ("sent", "acked", "delivered", "lost", "duplicated"))
        print(f"| {name} | {cells}{twice} |")
    for phase, errors in (("setup + pairs", pairs["errors"]), ("burst", burst.get("errors", {}))):
        limited = {k: n for k, n in errors.items() if k.endswith("rate_limited") and n}
        others = {k: n for k, n in errors.items() if k not in limited and n}
        print(f"errors, {phase}: rate-limited {limited or 0}; other {others or 0}")
    if "watch_seconds" in burst:
        print(
            f"burst: server idle {burst['quiet_after_pairs']:.1f} s after the pairs; {burst['members']} of "
            f"{args.burst_members} consoles watching after {burst['watch_seconds']:.1f} s, "
            f"{burst['presence_frames']:,} presence frames to them (an all-to-all echo of each newcomer: "
            f"Σk² = {sum(k * k for k in range(1, burst['members'] + 1)):,}), "
            + (f"quiet after {q:.1f} s" if (q := burst["quiet_seconds"]) else f"still coming after {QUIET_SECONDS:g} s")
        )
    print(f"customer sockets: {events.get('customer message', 0):,} message frames, "
          f"{events.get('customer seq gap', 0):,} whose prev_seq is not the previous frame's seq, "
          f"{events.get('customer seq repeated', 0):,} repeating a seq already received")  # fmt: skip
    for phase, db in (("pairs (send + drain)", pairs["db"]), ("burst", burst["db"])):
        if db is not None:
            cpu = "" if db["cpu"] is None else f"CPU {100 * db['cpu']:.0f} % of a core; "
            print(f"server during the {phase}: {cpu}PostgreSQL sessions opened {db['sessions']:,}, commits "
                  f"{db['commits']:,}, backends connected/active at most {db['backends']}")  # fmt: skip
    if log is not None:
        lines = [x for x in log.read_text(errors="replace").splitlines() if " WARNING " in x or " ERROR " in x]
        kinds = Counter(re.sub(r"^\S+ \S+ ", "", x)[:100] for x in lines)
        print(f"server log {log}: {len(lines)} warnings/errors", *(f"\n  {n} × {k}" for k, n in kinds.most_common(4)))


def main() -> None:
    args = parse_args()
    url, marker, _lock = prepare_database()
    env = migrate(url, marker, own_server=args.url is None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    logging.getLogger("websockets").setLevel(logging.WARNING)
    started, load_before = time.strftime("%Y-%m-%d %H:%M:%S %z"), os.getloadavg()
    key, agents = seed(max(args.pairs, args.burst_members), time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:4])
    process = log = None
    if args.url:
        http_url = re.sub(r"^ws", "http", args.url.rstrip("/"))
    else:
        process, http_url, log = start_server(env, args.workers)
    try:
        out = asyncio.run(measure(args, key, agents, http_url, Probe(url, process.pid if process else None)))
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    report(args, out, log)
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)  # noqa: S607
    print(f"\n{started}; code {commit.stdout.strip() or '?'}; {platform.node()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; {http_url}{'' if args.url else f' ({args.workers} uvicorn process(es))'}; "
          f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f} (bench client, server, "
          "PostgreSQL and Redis share the machine)")  # fmt: skip


if __name__ == "__main__":
    main()
