"""SLA reads for the console: the "at risk" filter and a ticket's most urgent running clock (no query)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from tickets.models import SlaMetric, Ticket
from tickets.models.tickets import UNSOLVED_Q

AT_RISK_MINUTES = 30


def at_risk_q(now: datetime | None = None) -> Q:
    """Unsolved tickets whose soonest running clock is overdue or due within AT_RISK_MINUTES (the console's
    "at risk" view; the partial index ticket_sla_at_risk_idx serves it). A breached clock that was met since
    (the reply came late) no longer puts the ticket at risk; `sla_breached` still records that it happened."""
    soon = (now or timezone.now()) + timedelta(minutes=AT_RISK_MINUTES)
    return UNSOLVED_Q & Q(sla_due_at__lte=soon)


@dataclass(frozen=True)
class Countdown:
    metric: str
    due_at: datetime
    seconds_left: int  # negative when overdue

    @property
    def state(self) -> str:
        if self.seconds_left < 0:
            return "breached"
        return "at_risk" if self.seconds_left <= AT_RISK_MINUTES * 60 else "ok"


def sla_countdown(ticket: Ticket, now: datetime | None = None) -> Countdown | None:
    """The most urgent running clock, for the console's list and ticket page (no query)."""
    now = now or timezone.now()
    candidates = [
        (SlaMetric.FIRST_RESPONSE, ticket.sla_first_response_due_at),
        (SlaMetric.NEXT_RESPONSE, ticket.sla_next_response_due_at),
        (SlaMetric.RESOLUTION, ticket.sla_resolution_due_at),
    ]
    running = [(due, metric) for metric, due in candidates if due is not None]
    if not running:
        return None
    due, metric = min(running)
    return Countdown(metric=metric, due_at=due, seconds_left=int((due - now).total_seconds()))
