"""What the console shows of SLA clocks and automation's reading of a ticket: list badges and the ticket panel.

Badges are computed from the ticket row alone (no query); the browser keeps them ticking from `data-due`
(static/console/console.js formats the countdown with the same catalogue strings as `duration_label`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.automation.sentiment import NEUTRAL_BAND, STRONGLY_NEGATIVE
from tickets.models import Category, SlaEvent, SlaMetric, Status, Ticket
from tickets.selectors.sla import AT_RISK_MINUTES, sla_countdown

PAUSED = frozenset({Status.PENDING, Status.ON_HOLD})
AT_RISK_SECONDS = AT_RISK_MINUTES * 60
RECENT_EVENTS = 10
METRICS = [
    (SlaMetric.FIRST_RESPONSE, "sla_first_response_due_at"),
    (SlaMetric.NEXT_RESPONSE, "sla_next_response_due_at"),
    (SlaMetric.RESOLUTION, "sla_resolution_due_at"),
]


def duration_label(seconds: int) -> str:
    """ "12 min", "3 h 5 min", "2 d 4 h": whole minutes, rounded up, never "0 min"."""
    minutes = max(1, math.ceil(abs(seconds) / 60))
    if minutes < 60:
        return _("%(minutes)s min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        if minutes:
            return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
        return _("%(hours)s h") % {"hours": hours}
    days, hours = divmod(hours, 24)
    if hours:
        return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    return _("%(days)s d") % {"days": days}


def countdown_label(seconds: int) -> str:
    if seconds < 0:
        return _("%(time)s overdue") % {"time": duration_label(seconds)}
    return duration_label(seconds)


def _state(seconds: int) -> str:
    """The same thresholds as services.sla.Countdown.state."""
    if seconds < 0:
        return "breached"
    return "at_risk" if seconds <= AT_RISK_SECONDS else "ok"


@dataclass(frozen=True)
class SlaBadge:
    """One clock as the console shows it: a countdown, or "paused" (a policy, but the ticket waits)."""

    state: str  # ok | at_risk | breached | paused
    metric: str = ""
    due_at: datetime | None = None
    seconds_left: int | None = None
    breached: bool = False  # some target of this ticket was missed (possibly an earlier one)

    @property
    def label(self) -> str:
        if self.state == "paused":
            return _("paused")
        return countdown_label(self.seconds_left)

    @property
    def metric_label(self) -> str:
        return SlaMetric(self.metric).label if self.metric else ""


def sla_badge(ticket: Ticket, now: datetime | None = None) -> SlaBadge | None:
    """The most urgent running clock of an inbox row; None when no policy applies (or nothing runs)."""
    countdown = sla_countdown(ticket, now)
    if countdown is not None:
        return SlaBadge(
            countdown.state, countdown.metric, countdown.due_at, countdown.seconds_left, ticket.sla_breached
        )
    if ticket.sla_policy_id is not None and ticket.status in PAUSED:
        return SlaBadge("paused", breached=ticket.sla_breached)
    return None


def with_badges(tickets: list[Ticket], now: datetime | None = None) -> list[Ticket]:
    """Attach `sla_badge` to each row (for the template); one clock reading for the whole page."""
    now = now or timezone.now()
    for ticket in tickets:
        ticket.sla_badge = sla_badge(ticket, now)
    return tickets


@dataclass
class SlaPanel:
    policy_name: str
    breached: bool
    paused: bool
    clocks: list[SlaBadge]
    events: list[SlaEvent]
    intent_label: str = ""
    intent_percent: int | None = None
    sentiment: float | None = None
    sentiment_label: str = ""
    sentiment_tone: str = ""  # very_negative | negative | neutral | positive (a CSS class)
    at_risk_seconds: int = AT_RISK_SECONDS

    @property
    def empty(self) -> bool:
        return not (self.policy_name or self.events or self.intent_label or self.sentiment_label)


def _sentiment(score: float | None) -> tuple[str, str]:
    if score is None:
        return "", ""
    if score <= STRONGLY_NEGATIVE:
        return _("Very negative"), "very_negative"
    if score <= -NEUTRAL_BAND:
        return _("Negative"), "negative"
    if score >= NEUTRAL_BAND:
        return _("Positive"), "positive"
    return _("Neutral"), "neutral"


def _intent_label(ticket: Ticket) -> str:
    """The category the classifier read (a slug): its name, without a query when it is the ticket's category."""
    if not ticket.intent:
        return ""
    if ticket.category_id and ticket.category.slug == ticket.intent:
        return str(ticket.category)
    category = Category.objects.filter(slug=ticket.intent).select_related("parent").first()
    return str(category) if category else ticket.intent


def event_threshold_label(event: SlaEvent) -> str:
    """A warning's threshold: "p80" is 80 % of the target elapsed, "m10" ten minutes before it is due."""
    threshold = event.threshold or ""
    if threshold.startswith("p") and threshold[1:].isdigit():
        return _("%(percent)s%% elapsed") % {"percent": threshold[1:]}
    if threshold.startswith("m") and threshold[1:].isdigit():
        return _("%(minutes)s min before due") % {"minutes": threshold[1:]}
    return ""


def _policy_name(ticket: Ticket, events: list[SlaEvent]) -> str:
    """Every SLA event is logged with the ticket's policy of the moment, and a change of policy logs "applied": the
    newest events carry the current one. Only a policy set some other way costs its own query."""
    if ticket.sla_policy_id is None:
        return ""
    policy = next((e.policy for e in events if e.policy_id == ticket.sla_policy_id), None) or ticket.sla_policy
    return policy.name


def sla_panel(ticket: Ticket, now: datetime | None = None) -> SlaPanel:
    """The ticket page's SLA section: one query (the recent SLA events with their policy, which names the ticket's),
    and one more only when the classifier's intent is not the ticket's own category."""
    now = now or timezone.now()
    clocks = []
    for metric, attr in METRICS:
        due = getattr(ticket, attr)
        if due is not None:
            seconds = int((due - now).total_seconds())
            clocks.append(SlaBadge(_state(seconds), metric, due, seconds, ticket.sla_breached))
    events = list(SlaEvent.objects.filter(ticket=ticket).select_related("policy").order_by("-id")[:RECENT_EVENTS])
    for event in events:
        event.threshold_label = event_threshold_label(event)
    label, tone = _sentiment(ticket.sentiment)
    return SlaPanel(
        policy_name=_policy_name(ticket, events),
        breached=ticket.sla_breached,
        paused=bool(ticket.sla_policy_id) and ticket.status in PAUSED,
        clocks=clocks,
        events=events,
        intent_label=_intent_label(ticket),
        intent_percent=round(ticket.intent_confidence * 100) if ticket.intent_confidence is not None else None,
        sentiment=ticket.sentiment,
        sentiment_label=label,
        sentiment_tone=tone,
    )
