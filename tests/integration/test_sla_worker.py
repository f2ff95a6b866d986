"""SLA automation against real processes: Celery workers and beats as subprocesses, the real Redis broker and
the test PostgreSQL database. Exactly once with two workers and two beats, catch-up after downtime (with the
live lag measured), and the automation pipeline queued by the web side's `on_commit`.

Every process here uses a private queue (its default queue, so beat's ticks and anything a task queues go
there too): a developer's worker on the same Redis never takes our sweeps, and ours never take theirs.
"""

from __future__ import annotations

import math
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from helpdesk.celery import app
from helpdesk.models import AuditEvent
from tests.factories import make_customer, make_ticket
from tests.integration.conftest import ROOT, subprocess_env
from tickets import services
from tickets.models import (
    Priority,
    Rule,
    RuleExecution,
    SlaEvent,
    SlaEventKind,
    SlaMetric,
    SlaPolicy,
    Ticket,
)
from tickets.services.sla import sla_cache_clear
from tickets.services.sla_upkeep import sla_recompute

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# `celery <args>` with the app's default queue replaced by argv[1] (applied over the Django settings).
CELERY_MAIN = (
    "import sys\n"
    "from helpdesk.celery import app\n"
    "app.conf.task_default_queue = sys.argv[1]\n"
    "sys.exit(app.start(sys.argv[2:]))\n"
)
SWEEP_DONE = re.compile(r"Task tickets\.tasks\.sla_sweep\[[^\]]+\] succeeded in [0-9.e-]+s: (\d+)")
SWEEP_SENT = "Sending due task sla-sweep"
SLA_KINDS = [SlaEventKind.WARNED, SlaEventKind.BREACHED]


class CeleryProcesses:
    """Workers and beats on one private queue; `stop()` ends every one of them (and drops the queue)."""

    def __init__(self, tmp_path: Path):
        self.queue = f"test-sla-{uuid.uuid4().hex[:8]}"
        self.tmp = tmp_path
        self.processes: dict[str, tuple[subprocess.Popen, Path]] = {}

    def _start(self, name: str, args: list[str], **env: str) -> str:
        log = self.tmp / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-c", CELERY_MAIN, self.queue, *args],
                cwd=ROOT,
                env=subprocess_env(CELERY_TASK_ALWAYS_EAGER="0", **env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes[name] = (process, log)
        return name

    def worker(self, name: str = "worker", pool: str = "prefork") -> str:
        """Two task slots; prefork as in production, threads where only a quicker shutdown matters."""
        return self._start(
            name,
            ["worker", "-Q", self.queue, "-n", f"{name}-{self.queue}@%h", "--pool", pool, "--concurrency", "2",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"],
        )  # fmt: skip

    def beat(self, name: str = "beat") -> str:
        (self.tmp / name).mkdir()
        schedule = self.tmp / name / "schedule"
        return self._start(name, ["beat", "-s", str(schedule), "--loglevel", "INFO"], SLA_SWEEP_SECONDS="1")

    def log(self, name: str) -> str:
        return self.processes[name][1].read_text(errors="replace")

    def sweeps(self, name: str) -> list[int]:
        """What each sla_sweep task this worker finished returned (the number of events it fired)."""
        return [int(n) for n in SWEEP_DONE.findall(self.log(name))]

    def assert_alive(self) -> None:
        for name, (process, log) in self.processes.items():
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-3000:]
                raise AssertionError(f"{name} exited with {process.returncode}:\n{tail}")

    def wait_until(self, predicate, timeout: float, interval: float = 0.2) -> bool:
        """Poll `predicate` until it holds or `timeout` seconds pass; fail at once if a process died."""
        deadline = time.monotonic() + timeout
        while True:
            self.assert_alive()
            if predicate():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)

    def stop(self) -> None:
        beats_first = sorted(self.processes.items(), key=lambda item: not item[0].startswith("beat"))
        for _, (process, _log) in beats_first:
            if process.poll() is None:
                process.terminate()
        for _, (process, _log) in beats_first:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        try:  # best effort: leave no stray ticks on the shared Redis
            from kombu import Exchange, Queue

            with app.connection_for_write() as conn:
                bound = Queue(self.queue, Exchange(self.queue), routing_key=self.queue)(conn.default_channel)
                bound.declare()
                bound.delete()
        except Exception:  # noqa: S110
            pass


@pytest.fixture(autouse=True)
def _fresh_sla_cache():
    """The flush between tests deletes the policies this process has cached (for CACHE_SECONDS)."""
    sla_cache_clear()
    yield
    sla_cache_clear()


@pytest.fixture
def celery(transactional_db, tmp_path):
    processes = CeleryProcesses(tmp_path)
    try:
        yield processes
    finally:
        processes.stop()  # before pytest-django flushes the database (the workers hold connections)


def sla_policy(**fields) -> SlaPolicy:
    values = {"name": "One minute", "first_response_minutes": 1, "warn_percentages": [50]}
    values.update(fields)
    policy = SlaPolicy.objects.create(**values)
    sla_cache_clear()
    return policy


def backdate(ages: dict[int, timedelta]) -> datetime:
    """Make tickets as old as given (created that long before now) and recompute their SLA due times."""
    now = timezone.now()
    with transaction.atomic():
        by_age: dict[timedelta, list[int]] = {}
        for pk, age in ages.items():
            by_age.setdefault(age, []).append(pk)
        for age, pks in by_age.items():
            Ticket.objects.filter(pk__in=pks).update(created_at=now - age, sla_next_due_at=now - age)
        sla_recompute()
    return now


def sla_rows(ticket_ids) -> list[tuple[int, str, str, str]]:
    rows = SlaEvent.objects.filter(ticket_id__in=list(ticket_ids), kind__in=SLA_KINDS)
    return list(rows.values_list("ticket_id", "kind", "metric", "threshold"))


def expected_rows(ticket_ids) -> Counter:
    return Counter(
        row
        for pk in ticket_ids
        for row in (
            (pk, SlaEventKind.WARNED, SlaMetric.FIRST_RESPONSE, "p50"),
            (pk, SlaEventKind.BREACHED, SlaMetric.FIRST_RESPONSE, ""),
        )
    )


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def test_two_workers_and_two_beats_fire_each_warning_and_breach_exactly_once(celery, shop, queue, capsys):
    started = time.monotonic()
    workers = [celery.worker("worker-1"), celery.worker("worker-2")]
    beats = [celery.beat("beat-1"), celery.beat("beat-2")]
    # The processes boot (seconds of imports) while the tickets are made; nothing is due yet.
    sla_policy()
    customer = make_customer(shop)
    ids = [make_ticket(shop=shop, queue=queue, customer=customer).pk for _ in range(50)]
    assert celery.wait_until(
        lambda: all(" ready." in celery.log(w) for w in workers) and all(SWEEP_SENT in celery.log(b) for b in beats),
        timeout=60,
    ), "the workers and beats did not start"
    assert not sla_rows(ids)
    # Half long overdue (warning and breach due at once); half with the warning due and the breach 1-4 s
    # ahead, so later sweeps fire those, on whichever worker takes each tick.
    ages = {pk: timedelta(minutes=30) if i % 2 else timedelta(seconds=59 - (i // 2) % 4) for i, pk in enumerate(ids)}
    backdate(ages)

    def done() -> bool:
        return (
            len(sla_rows(ids)) >= 100
            and sum(sum(celery.sweeps(w)) for w in workers) >= 100
            and all(celery.sweeps(w) for w in workers)
            and all(SWEEP_SENT in celery.log(b) for b in beats)
        )

    assert celery.wait_until(done, timeout=30), (
        f"{len(sla_rows(ids))} of 100 SLA events; sweeps: {[celery.sweeps(w) for w in workers]}"
    )
    elapsed = time.monotonic() - started
    # Two more ticks from each beat, swept: nothing may fire again.
    ticks = {b: celery.log(b).count(SWEEP_SENT) for b in beats}
    swept = sum(len(celery.sweeps(w)) for w in workers)
    assert celery.wait_until(
        lambda: (
            all(celery.log(b).count(SWEEP_SENT) >= ticks[b] + 2 for b in beats)
            and sum(len(celery.sweeps(w)) for w in workers) >= swept + 4
        ),
        timeout=10,
    )

    rows = Counter(sla_rows(ids))
    assert rows == expected_rows(ids)
    assert sum(rows.values()) == 100 and max(rows.values()) == 1
    # Side effects happened once too: one breach audit event per ticket, and every ticket is done.
    breaches = Counter(
        AuditEvent.objects.filter(action="ticket.sla_breached", object_id__in=[str(pk) for pk in ids]).values_list(
            "object_id", flat=True
        )
    )
    assert breaches == Counter({str(pk): 1 for pk in ids})
    assert Ticket.objects.filter(pk__in=ids, sla_breached=True, sla_next_due_at__isnull=True).count() == 50
    # The row lock claimed every ticket: no sweep tripped over the unique constraint (the backstop).
    for w in workers:
        assert "SLA sweep failed" not in celery.log(w)
        assert "IntegrityError" not in celery.log(w)
    fired = {w: sum(celery.sweeps(w)) for w in workers}
    assert sum(fired.values()) == 100
    with capsys.disabled():
        ticks = {b: celery.log(b).count(SWEEP_SENT) for b in beats}
        sweeps = {w: len(celery.sweeps(w)) for w in workers}
        print(f"\n[exactly once] 100 events in {elapsed:.1f}s; beat ticks {ticks}; sweeps {sweeps}; fired {fired}")


def test_missed_deadlines_catch_up_after_downtime_and_live_ones_fire_on_time(celery, shop, queue, capsys):
    sla_policy()
    customer = make_customer(shop)
    missed = [make_ticket(shop=shop, queue=queue, customer=customer).pk for _ in range(20)]
    backdate(dict.fromkeys(missed, timedelta(minutes=30)))  # the desk was down for half an hour
    assert not sla_rows(missed)

    started = time.monotonic()
    celery.worker(pool="threads")
    celery.beat()
    assert celery.wait_until(lambda: len(sla_rows(missed)) >= 40, timeout=60), (
        f"{len(sla_rows(missed))} of 40 missed SLA events after 60 s"
    )
    catch_up = time.monotonic() - started
    assert catch_up <= 60
    assert Counter(sla_rows(missed)) == expected_rows(missed)

    # Live: breaches due 3-4.9 s after the backdating, while the worker and beat run.
    live = [make_ticket(shop=shop, queue=queue, customer=customer).pk for _ in range(20)]
    ages = {pk: timedelta(seconds=57 - i * 0.1) for i, pk in enumerate(live)}
    live_from = backdate(ages)
    due = dict(Ticket.objects.filter(pk__in=live).values_list("pk", "sla_first_response_due_at"))
    assert due == {pk: live_from - age + timedelta(minutes=1) for pk, age in ages.items()}
    latest = max(due.values()) + timedelta(seconds=15)

    def breached():
        return SlaEvent.objects.filter(ticket_id__in=live, kind=SlaEventKind.BREACHED)

    celery.wait_until(lambda: breached().count() == len(live), timeout=(latest - timezone.now()).total_seconds())
    late = {pk: recorded - at for pk, at, recorded in breached().values_list("ticket_id", "due_at", "created_at")}
    assert set(late) == set(live), f"no breach recorded within 15 s for tickets {set(live) - set(late)}"
    for pk, lag in late.items():
        assert timedelta(0) <= lag <= timedelta(seconds=15), f"ticket {pk} breached {lag} after its due time"
    assert Counter(sla_rows(live)) == expected_rows(live)

    lags = [
        (recorded - at).total_seconds()
        for at, recorded in SlaEvent.objects.filter(kind__in=SLA_KINDS, due_at__gte=live_from).values_list(
            "due_at", "created_at"
        )
    ]
    with capsys.disabled():
        print(
            f"\n[catch-up] 40 missed events recorded {catch_up:.1f}s after the worker and beat were started"
            f"\n[live lag] n={len(lags)} p99={p99(lags):.3f}s median={statistics.median(lags):.3f}s "
            f"max={max(lags):.3f}s (SLA_SWEEP_SECONDS=1)"
        )


def test_automation_rule_runs_on_the_real_worker_after_commit(celery, shop, queue, capsys):
    rule = Rule(
        name="Double charge",
        triggers=["created"],
        conditions=[{"field": "text", "op": "contains_any", "value": ["重复扣款"]}],
        actions=[{"type": "add_tags", "value": ["double-charge"]}, {"type": "set_priority", "value": "high"}],
    )
    rule.full_clean()
    rule.save()
    customer = make_customer(shop)
    worker = celery.worker(pool="threads")
    assert celery.wait_until(lambda: " ready." in celery.log(worker), timeout=30), "the worker did not start"

    # The web side queues the pipeline with transaction.on_commit(run_automation.delay): publish for real.
    eager, default_queue = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager, app.conf.task_default_queue = False, celery.queue
    try:
        with transaction.atomic():
            ticket = services.ticket_create(
                shop=shop,
                actor=None,
                customer=customer,
                subject="银行卡扣了两次",
                body="我付了一次款，但是银行卡被重复扣款了，请退回多扣的钱。",
                queue=queue,
                priority=Priority.LOW,  # sentiment alone could raise it one step, never to high
            )
        committed = time.monotonic()

        def applied() -> bool:
            t = Ticket.objects.get(pk=ticket.pk)
            return (
                t.priority == Priority.HIGH
                and t.tags.filter(name="double-charge").exists()
                and RuleExecution.objects.filter(rule=rule, ticket=t).exists()
            )

        assert celery.wait_until(applied, timeout=20), "the worker did not apply the rule within 20 s"
        took = time.monotonic() - committed
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = eager, default_queue

    execution = RuleExecution.objects.get(rule=rule, ticket=ticket)
    assert execution.trigger == "created"
    assert execution.applied == rule.actions
    # The change was made by the rule, in the worker: its audit events carry the rule as actor.
    assert AuditEvent.objects.filter(object_id=str(ticket.pk), actor_label=f"rule:{rule.pk}").exists()
    assert re.search(
        rf"Task tickets\.tasks\.run_automation\[[^\]]+\] succeeded in \S+ {{'rules': \[{rule.pk}\]", celery.log(worker)
    )
    with capsys.disabled():
        print(f"\n[automation] rule applied by the worker {took:.2f}s after the commit")
