"""SLA upkeep beside the clocks: recompute after a policy or calendar edit, tell every process an edit
happened, and record the past deadlines of imported timelines."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tickets.models import SlaEventKind, Status, Ticket
from tickets.services.sla import (
    CACHE_SECONDS,
    VERSION_KEY,
    _fired,
    _log,
    _store,
    deadlines,
    sla_cache_clear,
    sla_refresh,
)

logger = logging.getLogger(__name__)


def sla_recompute(
    *, policy_id: int | None = None, calendar_id: int | None = None, orphans: bool = False, batch: int = 500
) -> int:
    """Recompute open tickets on an edited policy or calendar, or (`orphans`) those whose policy was deleted
    (a Celery task calls this after the commit). Neither given: every open ticket."""
    sla_cache_clear()
    scope = Ticket.objects.filter(status__in=[Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD])
    if orphans:
        scope = scope.filter(sla_policy__isnull=True).filter(
            Q(sla_first_response_due_at__isnull=False)
            | Q(sla_next_response_due_at__isnull=False)
            | Q(sla_resolution_due_at__isnull=False)
            | Q(sla_next_due_at__isnull=False)
        )
    if policy_id is not None:
        scope = scope.filter(sla_policy_id=policy_id)
    if calendar_id is not None:
        scope = scope.filter(sla_policy__calendar_id=calendar_id)
    last_id, done = 0, 0
    while True:
        ids = list(scope.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return done
        with transaction.atomic():
            for ticket in (
                Ticket.objects.select_for_update(of=("self",))
                .filter(pk__in=ids)
                .select_related("customer", "queue")
                .order_by("pk")
            ):
                sla_refresh(ticket, force=True)
                done += 1
        last_id = ids[-1]


def sla_config_changed(*, policy_id: int | None = None, calendar_id: int | None = None, deleted: bool = False) -> None:
    """A policy or calendar was edited or deleted: after the commit, every process drops its cached copy and a
    worker recomputes the affected open tickets (for a deleted policy: those it left without one)."""

    def send() -> None:
        from tickets.tasks import sla_recompute as task

        _bump_version()
        try:
            if deleted:
                task.delay(orphans=True)
            else:
                task.delay(policy_id=policy_id, calendar_id=calendar_id)
        except Exception:  # broker down: tickets pick up the edit on their next change
            logger.exception("could not queue the SLA recompute (policy %s, calendar %s)", policy_id, calendar_id)

    transaction.on_commit(send)


def sla_queue_changed() -> None:
    """A queue's default policy changed: every process drops its cached queue defaults after the commit (the
    queue's tickets take the new default on their next change, as before the cache)."""
    transaction.on_commit(_bump_version)


def _bump_version() -> None:
    sla_cache_clear()
    try:
        cache.set(VERSION_KEY, time.time_ns(), None)
    except Exception:
        logger.warning("could not bump the SLA configuration version; processes refresh within %ss", CACHE_SECONDS)


def sla_backfill(*, now: datetime | None = None) -> int:
    """For imported (or demo) tickets with a past timeline: recompute every open ticket and record the
    deadlines already behind it as warned/breached *without* alerts or escalations, which would otherwise
    all fire at once on the next sweep. Returns the number of events recorded."""
    sla_recompute()
    now = now or timezone.now()
    recorded = 0
    with transaction.atomic():
        for ticket in (
            Ticket.objects.select_for_update(of=("self",))
            .filter(sla_next_due_at__lte=now)
            .select_related("sla_policy__calendar", "customer", "queue")
        ):
            fired = _fired(ticket)
            _, points = deadlines(ticket)
            for point in points:
                if point.at <= now and point.key not in fired:
                    _log(ticket, point.kind, point.metric, cycle=point.cycle, threshold=point.threshold, due=point.at)
                    fired.add(point.key)
                    recorded += 1
                    ticket.sla_breached = ticket.sla_breached or point.kind == SlaEventKind.BREACHED
            _store(ticket, now, fired)
    return recorded
