"""SLA clocks as data (DESIGN invariant 5).

`sla_refresh` runs inside every service that changes a ticket (under its row lock): it picks the policy,
opens/closes pauses, computes the per-metric due times in business time and stores the next moment anything
is due in `sla_next_due_at`. `sla_sweep` (Celery beat, every few seconds) claims due tickets with
`FOR UPDATE SKIP LOCKED` through the partial index and fires each warning and breach once: it runs under the
ticket's row lock, so its read of the ticket's fired events is authoritative, and the unique constraint on
`SlaEvent` is the backstop. Missed deadlines (no worker for a while) fire on the first sweep after.
"""

from __future__ import annotations

import logging
import time as clock
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from helpdesk import context, realtime
from helpdesk.audit import audit_record
from tickets.automation.businesstime import Schedule, Slot, add_business
from tickets.models import (
    Calendar,
    Priority,
    Queue,
    SlaEvent,
    SlaEventKind,
    SlaMetric,
    SlaPolicy,
    Status,
    Ticket,
)

logger = logging.getLogger(__name__)

PAUSED_STATUSES = frozenset({Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.CLOSED})
DONE_STATUSES = frozenset({Status.SOLVED, Status.CLOSED})
ALWAYS_OPEN = Schedule(time_zone="UTC", always_open=True)
RAISE = {Priority.LOW: Priority.NORMAL, Priority.NORMAL: Priority.HIGH, Priority.HIGH: Priority.URGENT}
CACHE_SECONDS = 10.0

VERSION_KEY = "sla:config-version"
_policies: tuple[float, Any, list[SlaPolicy]] | None = None
_schedules: dict[tuple[int, datetime], Schedule] = {}
_queue_policy_ids: dict[int, int | None] = {}  # queue id -> its default policy; dropped with the policies


def sla_cache_clear() -> None:
    """Forget this process's cached policies, calendars and queue defaults."""
    global _policies
    _policies = None
    _schedules.clear()
    _queue_policy_ids.clear()


def _config_version() -> Any:
    """Bumped in Redis by every policy or calendar save or delete, so every process drops its copy at once;
    with Redis unreachable the copy expires after CACHE_SECONDS."""
    try:
        return cache.get(VERSION_KEY, 0)
    except Exception:
        return None


def _active_policies() -> list[SlaPolicy]:
    global _policies
    version = _config_version()
    if (
        _policies is None
        or clock.monotonic() - _policies[0] > CACHE_SECONDS
        or (version is not None and version != _policies[1])
    ):
        rows = list(
            SlaPolicy.objects.filter(is_active=True).select_related("calendar").prefetch_related("categories", "shops")
        )
        for policy in rows:
            policy.category_ids = {c.pk for c in policy.categories.all()}
            policy.shop_ids = {s.pk for s in policy.shops.all()}
        _queue_policy_ids.clear()
        _policies = (clock.monotonic(), version, rows)
    return _policies[2]


def _queue_policy_id(ticket: Ticket) -> int | None:
    """The ticket's queue's default policy, cached like the policies (every ticket write asks)."""
    if Ticket.queue.is_cached(ticket):
        return ticket.queue.sla_policy_id
    if ticket.queue_id not in _queue_policy_ids:
        found = Queue.objects.filter(pk=ticket.queue_id).values_list("sla_policy_id", flat=True)
        _queue_policy_ids[ticket.queue_id] = next(iter(found), None)
    return _queue_policy_ids[ticket.queue_id]


def schedule_for(calendar: Calendar | None) -> Schedule:
    if calendar is None or calendar.always_open:
        return ALWAYS_OPEN
    key = (calendar.pk, calendar.updated_at)
    if key not in _schedules:
        overrides: dict[Any, list] = {}
        for o in calendar.overrides.all():
            day = overrides.setdefault(o.date, [])
            if not o.closed:
                day.append((o.start, o.end))
        _schedules[key] = Schedule(
            time_zone=calendar.time_zone,
            slots=tuple(Slot(s.weekday, s.start, s.end) for s in calendar.slots.all()),
            overrides={day: tuple(hours) for day, hours in overrides.items()},
        )
    return _schedules[key]


def policy_for(ticket: Ticket) -> SlaPolicy | None:
    """The first active policy (by position) whose conditions all match; else the queue's default."""
    policies = _active_policies()
    tier = ticket.customer.tier if any(p.tiers for p in policies) else ""
    for policy in policies:
        if policy.priorities and ticket.priority not in policy.priorities:
            continue
        if policy.tiers and tier not in policy.tiers:
            continue
        if policy.channels and ticket.channel not in policy.channels:
            continue
        if policy.category_ids and ticket.category_id not in policy.category_ids:
            continue
        if policy.shop_ids and ticket.shop_id not in policy.shop_ids:
            continue
        return policy
    default_id = _queue_policy_id(ticket) if ticket.queue_id else None
    if default_id:
        return next((p for p in policies if p.pk == default_id), None)
    return None


@dataclass(frozen=True)
class Deadline:
    kind: str  # warned | breached
    metric: str
    cycle: int
    threshold: str
    at: datetime

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.kind, self.metric, self.cycle, self.threshold)


def _pauses(ticket: Ticket) -> list[tuple[datetime, datetime | None]]:
    return [(parse_datetime(a), parse_datetime(b) if b else None) for a, b in ticket.sla_pauses]


def _clocks(ticket: Ticket) -> list[tuple[str, int, datetime, int]]:
    """The running metrics: (metric, cycle, start, target seconds)."""
    policy = ticket.sla_policy
    running = []
    if policy.first_response_minutes and ticket.first_response_at is None:
        running.append((SlaMetric.FIRST_RESPONSE, 0, ticket.created_at, policy.first_response_minutes * 60))
    if policy.next_response_minutes and ticket.sla_next_response_from is not None:
        running.append(
            (
                SlaMetric.NEXT_RESPONSE,
                ticket.sla_next_response_cycle,
                ticket.sla_next_response_from,
                policy.next_response_minutes * 60,
            )
        )
    if policy.resolution_minutes and ticket.status not in DONE_STATUSES:
        running.append((SlaMetric.RESOLUTION, 0, ticket.created_at, policy.resolution_minutes * 60))
    return running


def deadlines(ticket: Ticket) -> tuple[dict[str, datetime | None], list[Deadline]]:
    """Due time per metric and every warning/breach moment of the running clocks (none while paused)."""
    due: dict[str, datetime | None] = dict.fromkeys(SlaMetric.values)
    if ticket.sla_policy is None or ticket.status in PAUSED_STATUSES:
        return due, []
    policy = ticket.sla_policy
    schedule = schedule_for(policy.calendar)
    pauses = _pauses(ticket)
    out: list[Deadline] = []
    for metric, cycle, start, target in _clocks(ticket):
        at = add_business(schedule, start, target, pauses)
        due[metric] = at
        if at is None:
            continue
        out.append(Deadline(SlaEventKind.BREACHED, metric, cycle, "", at))
        for pct in sorted(set(policy.warn_percentages)):
            warn = add_business(schedule, start, target * pct / 100, pauses)
            if warn is not None:
                out.append(Deadline(SlaEventKind.WARNED, metric, cycle, f"p{pct}", warn))
        for minutes in sorted(set(policy.warn_minutes_before)):
            if 0 < minutes * 60 < target:
                warn = add_business(schedule, start, target - minutes * 60, pauses)
                if warn is not None:
                    out.append(Deadline(SlaEventKind.WARNED, metric, cycle, f"m{minutes}", warn))
    return due, out


def _fired(ticket: Ticket) -> set[tuple[str, str, int, str]]:
    rows = SlaEvent.objects.filter(ticket=ticket, kind__in=[SlaEventKind.WARNED, SlaEventKind.BREACHED])
    return set(rows.values_list("kind", "metric", "cycle", "threshold"))


def _log(ticket: Ticket, kind: str, metric: str = "", *, cycle: int = 0, threshold: str = "", due=None) -> None:
    SlaEvent.objects.create(
        ticket=ticket,
        policy=ticket.sla_policy,
        kind=kind,
        metric=metric,
        cycle=cycle,
        threshold=threshold,
        due_at=due,
    )


SLA_FIELDS = [
    "sla_policy",
    "sla_first_response_due_at",
    "sla_next_response_due_at",
    "sla_resolution_due_at",
    "sla_next_due_at",
    "sla_next_response_from",
    "sla_next_response_cycle",
    "sla_pauses",
    "sla_breached",
    "sla_due_at",
]


def _snapshot(ticket: Ticket) -> tuple:
    return tuple(getattr(ticket, f if f != "sla_policy" else "sla_policy_id") for f in SLA_FIELDS)


def _store(ticket: Ticket, now: datetime, fired: set | None = None, before: tuple | None = None) -> None:
    due, points = deadlines(ticket)
    if (
        before is not None
        and before[0] == ticket.sla_policy_id
        and before[1:4] == (due[SlaMetric.FIRST_RESPONSE], due[SlaMetric.NEXT_RESPONSE], due[SlaMetric.RESOLUTION])
        and before[5:] == _snapshot(ticket)[5:]
    ):
        return  # nothing the clocks depend on moved (most chat messages): no query, no write
    ticket.sla_first_response_due_at = due[SlaMetric.FIRST_RESPONSE]
    ticket.sla_next_response_due_at = due[SlaMetric.NEXT_RESPONSE]
    ticket.sla_resolution_due_at = due[SlaMetric.RESOLUTION]
    ticket.sla_due_at = min((d for d in due.values() if d is not None), default=None)
    if points:
        fired = _fired(ticket) if fired is None else fired
        pending = [p.at for p in points if p.key not in fired]
        ticket.sla_next_due_at = min(pending) if pending else None
    else:
        ticket.sla_next_due_at = None
    ticket.save(update_fields=SLA_FIELDS)


def sla_refresh(ticket: Ticket, *, now: datetime | None = None, force: bool = False) -> Ticket:
    """Bring the ticket's SLA fields up to date after a change. The caller holds the ticket's row lock.
    `force` recomputes the next due moment even when no due time moved (after the sweep fired something)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sla_refresh runs inside the service's transaction")
    now = now or timezone.now()
    policy = policy_for(ticket)
    if policy is not None and policy.pk != ticket.sla_policy_id and not SlaPolicy.objects.filter(pk=policy.pk).exists():
        # Deleted since this process cached it (outside the admin, which bumps the version): look again.
        sla_cache_clear()
        policy = policy_for(ticket)
    if policy is None and ticket.sla_policy_id is None:
        return ticket
    before = None if force else _snapshot(ticket)
    if (policy.pk if policy else None) != ticket.sla_policy_id:
        ticket.sla_policy = policy
        if policy is not None:
            _log(ticket, SlaEventKind.APPLIED)
    if policy is None:
        ticket.sla_first_response_due_at = ticket.sla_next_response_due_at = ticket.sla_resolution_due_at = None
        ticket.sla_next_due_at = ticket.sla_due_at = None
        ticket.save(update_fields=SLA_FIELDS)
        return ticket
    ticket.sla_policy = policy  # the cached object, with its calendar
    _track_pause(ticket, now)
    _track_fulfilment(ticket, now)
    _store(ticket, now, before=before)
    return ticket


def _track_pause(ticket: Ticket, now: datetime) -> None:
    pauses = list(ticket.sla_pauses)
    open_pause = bool(pauses) and pauses[-1][1] is None
    if ticket.status in PAUSED_STATUSES and not open_pause:
        pauses.append([now.isoformat(), None])
        _log(ticket, SlaEventKind.PAUSED)
    elif ticket.status not in PAUSED_STATUSES and open_pause:
        pauses[-1] = [pauses[-1][0], now.isoformat()]
        _log(ticket, SlaEventKind.RESUMED)
    ticket.sla_pauses = pauses


def _fulfilled_once(ticket: Ticket, metric: str, cycle: int) -> None:
    SlaEvent.objects.bulk_create(
        [SlaEvent(ticket=ticket, policy=ticket.sla_policy, kind=SlaEventKind.FULFILLED, metric=metric, cycle=cycle)],
        ignore_conflicts=True,
    )


def _track_fulfilment(ticket: Ticket, now: datetime) -> None:
    policy = ticket.sla_policy
    if policy.first_response_minutes and ticket.first_response_at is not None:
        _fulfilled_once(ticket, SlaMetric.FIRST_RESPONSE, 0)
    if policy.resolution_minutes and ticket.status in DONE_STATUSES:
        _fulfilled_once(ticket, SlaMetric.RESOLUTION, 0)
    # Next response: a cycle opens when the customer writes after the desk's last public reply, and the next
    # public reply closes it. The first reply is the first-response metric's, not this one's.
    answered = ticket.last_agent_message_at or ticket.first_response_at
    if ticket.sla_next_response_from is not None:
        if answered is not None and answered >= ticket.sla_next_response_from:
            _fulfilled_once(ticket, SlaMetric.NEXT_RESPONSE, ticket.sla_next_response_cycle)
            ticket.sla_next_response_from = None
    elif (
        policy.next_response_minutes
        and ticket.first_response_at is not None
        and ticket.last_customer_message_at is not None
        and answered is not None
        and ticket.last_customer_message_at > answered
    ):
        ticket.sla_next_response_from = ticket.last_customer_message_at
        ticket.sla_next_response_cycle = ticket.last_seq


# --- the sweep --------------------------------------------------------------------------------------------


def sla_sweep(*, now: datetime | None = None, batch: int = 100, budget_seconds: float = 8.0) -> int:
    """Fire every warning and breach due by `now`; returns how many fired. Safe to run concurrently. Small
    batches, each its own transaction, keep the claimed tickets locked briefly (an agent's reply waits on it)."""
    started = clock.monotonic()
    fired = 0
    while True:
        moment = now or timezone.now()
        with transaction.atomic():
            due = list(
                Ticket.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(sla_next_due_at__lte=moment)
                .select_related("sla_policy", "customer", "queue")
                .order_by("sla_next_due_at")[:batch]
            )
            for ticket in due:
                try:
                    with transaction.atomic():
                        fired += _fire(ticket, moment)
                except Exception:  # one broken ticket must not stall every other deadline
                    logger.exception("SLA sweep failed on ticket %s", ticket.pk)
        if len(due) < batch or clock.monotonic() - started > budget_seconds:
            return fired


def _fire(ticket: Ticket, now: datetime) -> int:
    if ticket.sla_policy_id is None:
        ticket.sla_next_due_at = None
        ticket.save(update_fields=["sla_next_due_at"])
        return 0
    policy = next((p for p in _active_policies() if p.pk == ticket.sla_policy_id), None)
    if policy is not None:
        ticket.sla_policy = policy
    already = _fired(ticket)
    _, points = deadlines(ticket)
    fired = 0
    with context.bound(actor_label="sla"):
        for point in sorted(points, key=lambda p: p.at):
            if point.at > now or point.key in already:
                continue
            _log(ticket, point.kind, point.metric, cycle=point.cycle, threshold=point.threshold, due=point.at)
            already.add(point.key)
            fired += 1
            if point.kind == SlaEventKind.BREACHED:
                _on_breach(ticket, point, now)
            else:
                _alert(ticket, "sla.warning", point, now)
        # Escalations may have changed priority or queue (and so the policy): start from the stored row.
        sla_refresh(Ticket.objects.select_related("customer", "queue").get(pk=ticket.pk), now=now, force=True)
    return fired


def _alert(ticket: Ticket, kind: str, point: Deadline, now: datetime) -> None:
    groups = [realtime.SUPERVISORS_GROUP, realtime.ticket_group(ticket.pk)]
    if ticket.assignee_id:
        groups.append(realtime.user_group(ticket.assignee_id))
    elif ticket.queue_id:
        groups.append(realtime.queue_group(ticket.queue_id))
    realtime.broadcast_on_commit(
        groups,
        {
            "type": kind,
            "ticket": ticket.pk,
            "reference": ticket.reference,
            "metric": point.metric,
            "threshold": point.threshold,
            "due_at": point.at.isoformat(),
            "late_seconds": max(0, int((now - point.at).total_seconds())),
        },
    )


def _on_breach(ticket: Ticket, point: Deadline, now: datetime) -> None:
    from tickets.services.tickets import ticket_assign, ticket_update

    policy = ticket.sla_policy
    if not ticket.sla_breached:
        ticket.sla_breached = True
        ticket.save(update_fields=["sla_breached"])
    audit_record(
        actor=None,
        action="ticket.sla_breached",
        obj=ticket,
        changes={"metric": point.metric, "due_at": point.at, "policy": policy.pk},
    )
    if policy.escalate_notify_supervisors:
        _alert(ticket, "sla.breached", point, now)
    if policy.escalate_raise_priority and ticket.priority in RAISE:
        ticket_update(ticket=ticket, actor=None, priority=RAISE[ticket.priority])
    if policy.escalate_queue_id and policy.escalate_queue_id != ticket.queue_id:
        ticket_update(ticket=ticket, actor=None, queue=policy.escalate_queue)
    if policy.escalate_assignee_id and policy.escalate_assignee_id != ticket.assignee_id:
        try:
            ticket_assign(ticket=ticket, actor=None, assignee=policy.escalate_assignee)
        except Exception:
            logger.warning("SLA escalation could not reassign ticket %s", ticket.pk, exc_info=True)
