"""Automation throughput: tickets/s through the real `run_automation` Celery task in a real worker, beside a no-op
task in the same worker and run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carddesk_autotagbench REDIS_URL=redis://127.0.0.1:6379/11 \\
    .venv/bin/python bench/autotag.py [--tickets 1000] [--quick]

Migrates a dedicated database, installs the built-in rules, SLA policies and classifier
(`automation_defaults_install`), creates tickets through `ticket_create` (their own after-commit enqueue held back),
starts `celery -A helpdesk worker -c 2 -E -I bench.autotag` on the same database and a dedicated Redis db, and
times enqueue → done from the worker's task events: a burst (throughput) and a paced run at half of it (latency),
for `run_automation` and for this module's `bench.autotag.noop`. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from celery import shared_task

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._db import prepare_marked_database

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NAME, MARKER, PREFIX = "carddesk_autotagbench", "carddesk-autotagbench", "bench-autotag-"
DEFAULT_REDIS = "redis://127.0.0.1:6379/11"
REFUSED_NAMES = {"carddesk", "postgres", "template0", "template1"}
RESULTS_FILE = Path(tempfile.gettempdir()) / "autotag-last-results.json"
NOOP = "bench.autotag.noop"
TRUNCATE = [
    "tickets_ruleexecution",
    "tickets_rule",
    "tickets_slaevent",
    "tickets_message",
    "tickets_ticket_tags",
    "tickets_ticket",
    "tickets_tag",
    "tickets_order",
    "tickets_customer",
    "tickets_category",
    "tickets_agentprofile",
    "tickets_slapolicy_shops",
    "tickets_slapolicy_categories",
    "tickets_slapolicy",
    "tickets_calendaroverride",
    "tickets_calendarslot",
    "tickets_calendar",
    "tickets_classifiermodel",
    "tickets_queue",
    "helpdesk_shop",
    "helpdesk_auditevent",
    "guardian_userobjectpermission",
    "guardian_groupobjectpermission",
    "auth_user_groups",
    "auth_user",
]


@shared_task(name=NOOP, acks_late=True)
def noop(ticket_id: int, trigger: str, seq: int) -> dict:
    """The floor: run_automation's signature and options, no work (imported by the worker through -I)."""
    return {"rules": [], "intent": "", "routed_to": None}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, help="tickets in the burst (default 1,000; --quick 200)")
    parser.add_argument("--paced", type=int, help="tickets in the paced run (default 200; --quick 50)")
    parser.add_argument("--quick", action="store_true", help="small numbers for a smoke run")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--purge", action="store_true", help="empty the bench's Redis queue first (a crashed run)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the ticket texts")
    args = parser.parse_args()
    args.tickets = args.tickets or (200 if args.quick else 1000)
    args.paced = args.paced or (50 if args.quick else 200)
    args.warmup = 20
    return args


# --- the dedicated database and Redis -------------------------------------------------------------------------


def prepare_database() -> str:
    return prepare_marked_database(default_name=DEFAULT_NAME, refused_names=REFUSED_NAMES, marker=MARKER, prefix=PREFIX)


def environment(url: str) -> dict[str, str]:
    os.environ.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "helpdesk.settings.local", "DEBUG": "0"})
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS)
    # Pub/sub ignores Redis db numbers: the worker's ticket events must not reach a development server's consoles.
    os.environ.setdefault("CHANNEL_LAYER_PREFIX", "carddesk-autotagbench")
    return dict(os.environ)


def check_broker(app, purge: bool) -> None:
    """The bench's queue must be empty and no other worker may consume it (it would take the bench's tasks)."""
    replies = app.control.ping(timeout=1.5)
    if replies:
        raise SystemExit(f"Refusing: workers already consume {os.environ['REDIS_URL']}: {replies}")
    with app.connection_for_write() as conn:
        waiting = conn.default_channel.client.llen("celery")
        if waiting and not purge:
            raise SystemExit(f"{waiting} messages wait in the 'celery' queue of {os.environ['REDIS_URL']}; --purge")
        if waiting:
            print(f"purged {app.control.purge()} messages")


# --- data -----------------------------------------------------------------------------------------------------


def texts(rng: random.Random) -> list[tuple[str, str, str]]:
    """(language, subject, body): the classifier's shipped seed sentences and the console bench's customer lines."""
    from bench import _seed

    out = []
    path = ROOT / "tickets" / "automation" / "data" / "seed_training.jsonl"
    for line in path.read_text().splitlines():
        row = json.loads(line)
        lang = "en" if row.get("lang") == "en" else "zh-hans"
        out.append((lang, rng.choice(_seed.SUBJECTS[lang]), row["text"]))
    for lang, lines in _seed.CUSTOMER_LINES.items():
        for text in lines:
            out.append((lang, rng.choice(_seed.SUBJECTS[lang]), text))
    return out


def seed(args: argparse.Namespace) -> dict:
    """Reset the bench's tables; shop, queues, categories, agents, customers and orders; the built-in automation;
    then the tickets, through ticket_create with its after-commit enqueue held back."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.utils import timezone
    from guardian.shortcuts import assign_perm

    from helpdesk.models import Shop
    from helpdesk.roles import GROUP_NAMES, Role, roles_sync
    from tickets.automation.builtin import rule_definitions
    from tickets.models import AgentProfile, Category, Customer, Order, Queue
    from tickets.services import tickets as ticket_services
    from tickets.services.automation_setup import automation_defaults_install

    seconds: dict[str, float] = {}
    rng = random.Random(args.seed)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY(%s)", [TRUNCATE]
        )
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    roles_sync()
    shop = Shop.objects.create(name="Bench autotag shop", slug=f"{PREFIX}shop")
    general = Queue.objects.create(name="Bench general", slug=f"{PREFIX}general", shop=shop, auto_assign=True)
    vip = Queue.objects.create(name="Bench VIP", slug=f"{PREFIX}vip", shop=shop, is_vip=True, auto_assign=True)
    slugs = {a["value"] for r in rule_definitions() for a in r["actions"] if a["type"] == "suggest_category"}
    labels = {json.loads(x)["label"] for x in (ROOT / "tickets/automation/data/seed_training.jsonl").open()}
    Category.objects.bulk_create(
        Category(name=slug, name_en=slug, slug=slug, default_queue=general) for slug in sorted(slugs | labels)
    )
    User = get_user_model()
    agents = User.objects.bulk_create(
        User(username=f"{PREFIX}agent{i}", is_staff=True, email=f"agent{i}@bench.example") for i in range(8)
    )
    Group.objects.get(name=GROUP_NAMES[Role.AGENT]).user_set.add(*agents)
    fresh = timezone.now() + timedelta(hours=2)  # presence counts for 70 s after a heartbeat: stay "online"
    AgentProfile.objects.bulk_create(
        AgentProfile(
            user=a, display_name=f"Agent {i}", presence="online", presence_changed_at=fresh, max_open_tickets=2000
        )
        for i, a in enumerate(agents)
    )
    for agent in agents:
        assign_perm("tickets.work_queue", agent, general)
        assign_perm("tickets.work_queue", agent, vip)
    customers = Customer.objects.bulk_create(
        Customer(
            shop=shop,
            external_id=f"c{i}",
            name=f"客户{i}",
            tier="vip" if i % 20 == 0 else "normal",
            language="en" if i % 3 == 0 else "zh-hans",
        )
        for i in range(1, 401)
    )
    seconds["structure"] = time.perf_counter() - started

    started = time.perf_counter()
    installed = automation_defaults_install()
    seconds["automation_defaults_install (rules, SLA policies, classifier training)"] = time.perf_counter() - started

    started = time.perf_counter()
    total = args.warmup * 2 + args.tickets + args.paced + 30  # +30: the in-process breakdown
    pool = texts(rng)
    statuses = [("paid", "pending"), ("paid", "delivered"), ("unpaid", "pending"), ("paid", "failed")]
    orders = Order.objects.bulk_create(
        Order(
            shop=shop,
            order_no=f"DD{i:08d}",
            customer=rng.choice(customers),
            product="Steam 充值卡 100元",
            amount=rng.choice([30, 50, 100, 200, 300, 600, 900]),
            payment_status=(s := rng.choice(statuses))[0],
            delivery_status=s[1],
            payment_channel="alipay",
        )
        for i in range(total)
    )
    held = ticket_services.automation_after_commit
    ticket_services.automation_after_commit = lambda *a, **k: None  # the bench enqueues, timed
    ids: list[tuple[int, int]] = []
    try:
        for i in range(total):
            lang, subject, body = rng.choice(pool)
            customer = orders[i].customer if rng.random() < 0.6 else rng.choice(customers)
            ticket = ticket_services.ticket_create(
                shop=shop,
                actor=None,
                customer=customer,
                subject=subject,
                body=body,
                channel=rng.choice(["web", "email", "chat", "api"]),
                order=orders[i] if customer == orders[i].customer else None,
                queue=general,
                language=lang,
            )
            ids.append((ticket.pk, ticket.last_seq))
    finally:
        ticket_services.automation_after_commit = held
    seconds["ticket_create"] = time.perf_counter() - started
    return {"ids": ids, "seconds": seconds, "installed": installed, "shop": shop.pk}


# --- the worker and its events ----------------------------------------------------------------------------------


def start_worker(env: dict[str, str], concurrency: int) -> tuple[subprocess.Popen, str, Path]:
    hostname = f"autotag-bench-{os.getpid()}@{socket.gethostname()}"
    log = Path(tempfile.gettempdir()) / f"autotag-worker-{os.getpid()}.log"
    command = [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "-c", str(concurrency), "-P", "prefork",
               "-E", "-I", "bench.autotag", "-n", hostname, "-l", "warning", "--without-gossip",
               "--without-mingle"]  # fmt: skip
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    return process, hostname, log


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # warm shutdown
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def worker_cpu_seconds(pid: int) -> float:
    """User + system CPU of the worker's main process and its pool children (Linux /proc)."""
    total, ticks = 0.0, os.sysconf("SC_CLK_TCK")
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        with contextlib.suppress(OSError, IndexError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


class Events:
    """The worker's task events (task-received/-started/-succeeded/-failed/-retried) by task id, from a receiver
    thread; timestamps are the worker's time.time() (same machine as the sender)."""

    def __init__(self, app) -> None:
        self.app = app
        self.tasks: dict[str, dict] = {}
        self.counts: Counter = Counter()
        self.lock = threading.Lock()
        self.done = threading.Condition(self.lock)
        self.receiver = None
        self.thread = threading.Thread(target=self.run, name="celery-events", daemon=True)
        self.error: BaseException | None = None

    def on_event(self, event: dict) -> None:
        kind = event.get("type", "")
        self.counts[kind] += 1
        if not kind.startswith("task-"):
            return
        with self.lock:
            row = self.tasks.setdefault(event["uuid"], {})
            row[kind.removeprefix("task-")] = event["timestamp"]
            if kind == "task-succeeded":
                row["runtime"] = event.get("runtime")
                row["result"] = event.get("result")
            if kind in ("task-failed", "task-retried"):
                row["exception" if kind == "task-failed" else "retry_reason"] = event.get("exception")
            if kind in ("task-succeeded", "task-failed"):
                self.done.notify_all()

    def run(self) -> None:
        try:
            with self.app.connection_for_read() as conn:
                self.receiver = self.app.events.Receiver(conn, handlers={"*": self.on_event})
                self.receiver.capture(limit=None, timeout=None, wakeup=False)
        except BaseException as exc:  # reported by wait()
            self.error = exc

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        if self.receiver is not None:
            self.receiver.should_stop = True
        self.thread.join(timeout=10)

    def wait(self, ids: list[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                finished = sum(
                    1 for i in ids if "succeeded" in self.tasks.get(i, {}) or "failed" in self.tasks.get(i, {})
                )
                if finished == len(ids):
                    return True
                left = deadline - time.monotonic()
                if left <= 0 or self.error is not None:
                    return False
                self.done.wait(min(left, 1.0))


def send(task, items: list[tuple[int, int]], rate: float | None) -> list[tuple[str, float]]:
    """Enqueue one task per (ticket id, seq), as fast as possible or at `rate` per second; (task id, sent at)."""
    sent = []
    started = time.monotonic()
    for i, (ticket_id, seq) in enumerate(items):
        if rate:
            wait = started + i / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        at = time.time()
        result = task.apply_async((ticket_id, "created", seq))
        sent.append((result.id, at))
    return sent


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))
    return ordered[index]


def phase(events: Events, worker_pid: int, label: str, task, items, rate: float | None) -> dict:
    cpu = worker_cpu_seconds(worker_pid)
    wall = time.monotonic()
    sent = send(task, items, rate)
    enqueue_seconds = time.monotonic() - wall
    finished = events.wait([i for i, _ in sent], timeout=600)
    cpu = worker_cpu_seconds(worker_pid) - cpu
    with events.lock:
        rows = [(at, dict(events.tasks.get(i, {}))) for i, at in sent]
    ok = [(at, r) for at, r in rows if "succeeded" in r]
    failed = [r for _at, r in rows if "failed" in r]
    retried = sum(1 for _at, r in rows if "retried" in r)
    latency = [r["succeeded"] - at for at, r in ok]
    waited = [r["started"] - at for at, r in ok if "started" in r]
    runtime = [r["runtime"] for _at, r in ok if r.get("runtime") is not None]
    span = max(r["succeeded"] for _at, r in ok) - min(at for at, _r in ok) if ok else float("nan")
    out = {
        "label": label,
        "tasks": len(sent),
        "succeeded": len(ok),
        "failed": len(failed),
        "retried": retried,
        "complete": finished,
        "rate": rate,
        "enqueue_seconds": enqueue_seconds,
        "span_seconds": span,
        "per_s": len(ok) / span if ok else 0.0,
        "latency_ms": {
            "p50": statistics.median(latency) * 1000,
            "p99": percentile(latency, 0.99) * 1000,
            "max": max(latency) * 1000,
        }
        if latency
        else {},
        "queue_wait_ms_p50": statistics.median(waited) * 1000 if waited else None,
        "runtime_ms": {"p50": statistics.median(runtime) * 1000, "p99": percentile(runtime, 0.99) * 1000}
        if runtime
        else {},
        "worker_cpu_s_per_task": cpu / len(sent) if sent else None,
        "failures": Counter(str(r.get("exception", ""))[:160] for r in failed).most_common(3),
        "retry_reasons": Counter(str(r["retry_reason"])[:160] for _at, r in rows if "retry_reason" in r).most_common(3),
    }
    lat = out["latency_ms"]
    print(
        f"  {label:<34} {out['succeeded']:>5}/{out['tasks']} ok in {span:6.2f} s = {out['per_s']:7.1f}/s; "
        f"enqueue→done p50 {lat.get('p50', 0):8.1f} ms p99 {lat.get('p99', 0):8.1f} ms; runtime p50 "
        f"{out['runtime_ms'].get('p50', 0):6.1f} ms; worker CPU {1000 * (out['worker_cpu_s_per_task'] or 0):.1f} "
        f"ms/task"
        + (f"; FAILED {out['failed']} {out['failures']}" if out["failed"] else "")
        + (f"; retried {out['retried']}: {out['retry_reasons']}" if out["retried"] else "")
    )
    return out


def in_process(items: list[tuple[int, int]]) -> dict:
    """The same work without Celery: automation_run in this process, with its SQL statements and broadcasts
    counted (each broadcast is one async_to_sync hop to the channel layer)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from helpdesk import realtime
    from tickets.services.automation import automation_run

    original = realtime.broadcast
    spent = {"n": 0, "s": 0.0}

    def timed(groups, event):
        started = time.perf_counter()
        try:
            return original(groups, event)
        finally:
            spent["n"] += 1
            spent["s"] += time.perf_counter() - started

    realtime.broadcast = timed
    samples, statements = [], 0
    try:
        for ticket_id, seq in items:
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                automation_run(ticket_id=ticket_id, trigger="created", seq=seq)
                samples.append(time.perf_counter() - started)
            statements += len(captured.captured_queries)
    finally:
        realtime.broadcast = original
    n = len(items)
    return {
        "tickets": n,
        "p50_ms": statistics.median(samples) * 1000,
        "p99_ms": percentile(samples, 0.99) * 1000,
        "statements_per_ticket": statements / n,
        "broadcasts_per_ticket": spent["n"] / n,
        "broadcast_ms_per_ticket": spent["s"] * 1000 / n,
    }


def outcomes(ids: list[int]) -> dict:
    from django.db.models import Count

    from tickets.models import RuleExecution, Ticket

    tickets = Ticket.objects.filter(pk__in=ids)
    return {
        "tickets": len(ids),
        "sentiment set": tickets.filter(sentiment__isnull=False).count(),
        "intent set": tickets.exclude(intent="").count(),
        "category set": tickets.filter(category__isnull=False).count(),
        "tagged": tickets.annotate(n=Count("tags")).filter(n__gt=0).count(),
        "assigned": tickets.filter(assignee__isnull=False).count(),
        "rule executions": RuleExecution.objects.filter(ticket_id__in=ids).count(),
    }


def main() -> None:
    args = parse_args()
    run_started = time.monotonic()
    url = prepare_database()
    env = environment(url)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from helpdesk.celery import app
    from tickets.tasks import run_automation

    started_at, load_before = time.strftime("%Y-%m-%d %H:%M:%S %z"), os.getloadavg()
    check_broker(app, args.purge)
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"migrate: {time.perf_counter() - started:.1f} s")
    data = seed(args)
    for label, seconds in data["seconds"].items():
        print(f"  {label}: {seconds:.1f} s")
    print(f"  installed: {data['installed']}")
    ids = data["ids"]
    w, n, p = args.warmup, args.tickets, args.paced
    warm_noop, warm_auto = ids[:w], ids[w : 2 * w]
    burst, paced, local = ids[2 * w : 2 * w + n], ids[2 * w + n : 2 * w + n + p], ids[2 * w + n + p :]
    creates = len(ids) / data["seconds"]["ticket_create"]
    print(f"  {len(ids):,} tickets through ticket_create in process: {creates:.0f}/s")

    print("in process (no Celery): automation_run on 30 tickets…")
    local_out = in_process(local)
    print(
        f"  p50 {local_out['p50_ms']:.1f} ms, p99 {local_out['p99_ms']:.1f} ms; "
        f"{local_out['statements_per_ticket']:.1f} SQL statements and {local_out['broadcasts_per_ticket']:.1f} "
        f"broadcasts ({local_out['broadcast_ms_per_ticket']:.1f} ms) per ticket"
    )

    process, hostname, log = start_worker(env, args.concurrency)
    events = Events(app)
    results: dict = {}
    try:
        for _ in range(120):  # 60 s at most
            if process.poll() is not None:
                raise SystemExit(f"the worker exited ({process.returncode}); see {log}:\n{log.read_text()[-3000:]}")
            if app.control.ping(destination=[hostname], timeout=0.5):
                break
        else:
            raise SystemExit(f"the worker did not answer a ping; see {log}")
        events.start()
        time.sleep(1.0)  # the receiver binds its queue
        print(f"worker {hostname} (-c {args.concurrency}, prefork, prefetch multiplier 1, acks late) is up; warm-up…")
        noop_task = app.tasks[NOOP]
        phase(events, process.pid, "warm-up no-op", noop_task, warm_noop, None)
        phase(events, process.pid, "warm-up run_automation", run_automation, warm_auto, None)
        print("burst (everything enqueued at once):")
        results["noop_burst"] = phase(events, process.pid, "no-op task", noop_task, burst, None)
        results["auto_burst"] = phase(events, process.pid, "run_automation", run_automation, burst, None)
        rate = max(1.0, results["auto_burst"]["per_s"] / 2)
        print(f"paced at {rate:.1f}/s (half the burst throughput of run_automation):")
        results["auto_paced"] = phase(events, process.pid, "run_automation", run_automation, paced, rate)
        results["noop_paced"] = phase(events, process.pid, "no-op task", noop_task, burst[: min(p, 100)], rate)
    finally:
        events.stop()
        stop_worker(process)
    lines = log.read_text(errors="replace").splitlines()
    problems = [x for x in lines if re.search(r"\b(WARNING|ERROR|CRITICAL)\b", x)]
    effects = outcomes([i for i, _ in burst])
    if not problems:
        log.unlink(missing_ok=True)

    report(args, results, local_out, effects, problems, log, creates)
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)  # noqa: S607
    print(
        f"\n{started_at}; code {commit.stdout.strip() or '?'}; {platform.node()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; worker, bench, PostgreSQL and Redis share the machine; load average before "
        f"{load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}; total {time.monotonic() - run_started:.0f} s; "
        f"results in {RESULTS_FILE}"
    )
    RESULTS_FILE.write_text(
        json.dumps(
            {
                "args": vars(args),
                "seeding": data["seconds"],
                "in_process": local_out,
                "results": results,
                "effects": effects,
                "worker_problems": problems[:50],
            },
            indent=2,
            default=str,
            ensure_ascii=False,
        )
    )


def report(args, results: dict, local_out: dict, effects: dict, problems: list[str], log: Path, creates: float) -> None:
    print("\n== automation through Celery ==")
    print("| task | mode | tasks | ok | tasks/s | enqueue→done p50 ms | p99 ms | queue wait p50 ms | runtime p50 ms |")
    print(f"|{' --- |' * 9}")
    for key, mode in (("auto_burst", "burst"), ("noop_burst", "burst"), ("auto_paced", "paced"),
                      ("noop_paced", "paced")):  # fmt: skip
        r = results[key]
        name = "run_automation" if key.startswith("auto") else "no-op (bench.autotag.noop)"
        how = mode if r["rate"] is None else f"paced {r['rate']:.1f}/s"
        lat = r["latency_ms"]
        print(
            f"| {name} | {how} | {r['tasks']} | {r['succeeded']} | {r['per_s']:.1f} | {lat.get('p50', 0):.1f} | "
            f"{lat.get('p99', 0):.1f} | {r['queue_wait_ms_p50'] or 0:.1f} | {r['runtime_ms'].get('p50', 0):.1f} |"
        )
    a, z = results["auto_burst"], results["noop_burst"]
    print(
        f"run_automation: **{a['per_s']:.1f} tickets/s** with -c {args.concurrency}, "
        f"{a['per_s'] / z['per_s']:.3f}× the no-op's {z['per_s']:.0f} tasks/s (ratio {z['per_s'] / a['per_s']:.0f}:1); "
        f"worker CPU {1000 * a['worker_cpu_s_per_task']:.1f} ms per ticket vs {1000 * z['worker_cpu_s_per_task']:.1f} "
        f"ms per no-op"
    )
    print(
        f"in process (no Celery) automation_run: p50 {local_out['p50_ms']:.1f} ms, "
        f"{local_out['statements_per_ticket']:.1f} SQL statements and {local_out['broadcasts_per_ticket']:.1f} "
        f"channel-layer broadcasts ({local_out['broadcast_ms_per_ticket']:.1f} ms) per ticket; ticket_create "
        f"{creates:.0f}/s"
    )
    print(f"effects on the burst's tickets: {effects}")
    failed = sum(r["failed"] for r in results.values())
    retried = sum(r["retried"] for r in results.values())
    reasons = Counter()
    for r in results.values():
        reasons.update(dict(r["retry_reasons"]))
    if reasons:
        print(f"retried because: {dict(reasons)}")
    print(f"failed tasks {failed}, retried {retried}; worker log: {len(problems)} warnings/errors" +
          (f" ({log})" if problems else ""))  # fmt: skip
    for kind, count in Counter(re.sub(r"^\[[^]]*\] ", "", x)[:110] for x in problems).most_common(4):
        print(f"  {count} × {kind}")


if __name__ == "__main__":
    main()
