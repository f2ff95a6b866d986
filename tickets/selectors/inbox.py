"""The console inbox: views, filters, search, keyset pages and counts — all scoped by TicketPolicy."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.crypto import get_cipher
from tickets.models import Customer, Message, Order, Queue, Status, Ticket
from tickets.permissions import TicketPolicy, User
from tickets.selectors.sla import at_risk_q
from tickets.services.customers import normalise_phone

UNSOLVED = [Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD]
PHONE = re.compile(r"\+?[\d\s-]{7,20}")
REFERENCE = re.compile(r"^T-?\d{1,12}$", re.IGNORECASE)
SORTS = {
    "-updated": ("updated_at", True),
    "updated": ("updated_at", False),
    "-created": ("created_at", True),
    "created": ("created_at", False),
    # The at-risk view's own order (not offered in the sort menu): the soonest running clock first.
    "sla": ("sla_due_at", False),
}
AT_RISK = "at_risk"
# Tickets at risk with no running clock (breached, then pending) sort after every due time.
PAGE_SIZE = 50
# Text matches considered per side (subjects, messages): a word in every third message must not pull in the table.
CANDIDATES = 2000


@dataclass(frozen=True)
class InboxView:
    key: str
    label: str
    count: int


@dataclass
class InboxFilters:
    view: str = "mine"
    status: list[str] = field(default_factory=list)
    priority: list[str] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)
    category: int | None = None
    queue: int | None = None
    assignee: int | None = None  # 0 = unassigned
    tag: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    sort: str = "-updated"


@dataclass
class InboxPage:
    tickets: list[Ticket]
    next_cursor: str | None
    view: str


def _view_filter(user: User, view: str) -> Q | None:
    """The Q of a named view, or None when the user may not use it (unknown views fall back to 'mine').

    Every view but "all" and "at_risk" implies visibility by itself (my tickets, my queues), so those are queried
    without the policy's OR of foreign keys and each can use one partial index. "at_risk" (breached, or a clock due
    within 30 minutes) is open to everyone and scoped by the policy like "all".
    """
    scope = TicketPolicy.scope(user)
    if view == "mine":
        return Q(assignee_id=scope.user_id)
    if view == "unassigned":
        if scope.is_supervisor:
            return Q(assignee__isnull=True)
        return Q(assignee__isnull=True, queue_id__in=scope.queue_ids)
    if view == "all":
        return Q() if scope.is_supervisor or scope.shop_ids else None
    if view == AT_RISK:
        return at_risk_q()
    if view.startswith("queue-"):
        try:
            queue_id = int(view.removeprefix("queue-"))
        except ValueError:
            return None
        if scope.is_supervisor or queue_id in scope.queue_ids:
            return Q(queue_id=queue_id)
    return None


def _implies_visibility(view: str) -> bool:
    return view not in {"all", AT_RISK}


def _view_queryset(user: User, view: str, view_q: Q) -> QuerySet[Ticket]:
    base = Ticket.objects.all() if _implies_visibility(view) else TicketPolicy.visible_to(user)
    return base.filter(view_q)


def inbox_views(user: User) -> list[InboxView]:
    """Every view the user may open, with its count of unsolved tickets (one index-only count per view)."""
    scope = TicketPolicy.scope(user)
    queues = Queue.objects.filter(is_active=True).order_by("name")
    if not scope.is_supervisor:
        queues = queues.filter(pk__in=scope.queue_ids)
    definitions: list[tuple[str, str, Q]] = [
        ("mine", str(_("Mine")), _view_filter(user, "mine")),
        ("unassigned", str(_("Unassigned")), _view_filter(user, "unassigned")),
        (AT_RISK, str(_("At risk")), at_risk_q()),
    ]
    definitions += [(f"queue-{q.pk}", q.name, Q(queue_id=q.pk)) for q in queues]
    if scope.is_supervisor or scope.shop_ids:
        definitions.append(("all", str(_("All")), Q()))
    return [
        InboxView(key, label, _view_queryset(user, key, q).filter(status__in=UNSOLVED).count())
        for key, label, q in definitions
    ]


def search_filter(q: str) -> Q:
    """Reference, order number, e-mail and phone match exactly (each through its own index, resolved to ids
    first); otherwise a substring of the subject or of a public message (trigram indexes, Chinese and English).
    Substrings shorter than three characters cannot use a trigram index, so they search subjects only."""
    q = q.strip()[:100]
    if REFERENCE.match(q):
        digits = re.sub(r"\D", "", q)
        return Q(reference=f"T-{int(digits):06d}")
    order_ids = list(Order.objects.filter(order_no=q).values_list("id", flat=True)[:50])
    if order_ids:
        return Q(order_id__in=order_ids)
    customer_ids: list[int] = []
    if "@" in q:
        customer_ids = list(Customer.objects.filter(email=q.lower()).values_list("id", flat=True)[:200])
    elif PHONE.fullmatch(q):
        digest = get_cipher().blind_index(normalise_phone(q))
        customer_ids = list(Customer.objects.filter(phone_digest=digest).values_list("id", flat=True)[:200])
    if customer_ids:
        return Q(customer_id__in=customer_ids)
    # One capped candidate set (newest subject matches + tickets of the newest message matches), each side driven
    # by its trigram index; visibility and filters are applied to the candidates. ORing the two in one WHERE made
    # PostgreSQL walk every visible ticket (~1 s at 1M tickets for a rare word; bench/console_inbox.py).
    candidates = list(
        Ticket.objects.filter(subject__icontains=q).order_by("-updated_at").values_list("id", flat=True)[:CANDIDATES]
    )
    if len(q) >= 3:
        candidates += list(
            Message.objects.filter(body__icontains=q, is_internal=False)
            .order_by("-ticket_id")
            .values_list("ticket_id", flat=True)[:CANDIDATES]
        )
    return Q(pk__in=set(candidates))


def _apply_filters(qs: QuerySet[Ticket], f: InboxFilters) -> QuerySet[Ticket]:
    if f.status:
        qs = qs.filter(status__in=f.status)
    elif not f.q:
        qs = qs.filter(status__in=UNSOLVED)  # views show unsolved work unless a status is chosen
    if f.priority:
        qs = qs.filter(priority__in=f.priority)
    if f.channel:
        qs = qs.filter(channel__in=f.channel)
    if f.category:
        qs = qs.filter(Q(category_id=f.category) | Q(category__parent_id=f.category))
    if f.queue:
        qs = qs.filter(queue_id=f.queue)
    if f.assignee is not None:
        qs = qs.filter(assignee__isnull=True) if f.assignee == 0 else qs.filter(assignee_id=f.assignee)
    if f.tag:
        qs = qs.filter(tags__name=f.tag)
    tz = timezone.get_current_timezone()
    if f.date_from:
        qs = qs.filter(created_at__gte=datetime.combine(f.date_from, time.min, tzinfo=tz))
    if f.date_to:
        qs = qs.filter(created_at__lt=datetime.combine(f.date_to + timedelta(days=1), time.min, tzinfo=tz))
    if f.q:
        qs = qs.filter(search_filter(f.q))
    return qs


def encode_cursor(ticket: Ticket, sort: str) -> str:
    field_name, _desc = SORTS[sort]
    raw = json.dumps([getattr(ticket, field_name).isoformat(), ticket.pk])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return datetime.fromisoformat(value), int(pk)
    except (ValueError, TypeError, OverflowError):
        return None


def inbox_page(user: User, filters: InboxFilters, *, cursor: str = "", limit: int = PAGE_SIZE) -> InboxPage:
    """One keyset page: `WHERE (updated_at, id) < (cursor)` stays fast at any depth, unlike OFFSET.

    The at-risk view always lists the soonest due clock first (its own sort, whatever the menu says)."""
    view_q = _view_filter(user, filters.view)
    if view_q is None:
        filters.view = "mine"
        view_q = _view_filter(user, "mine")
    sort = filters.sort if filters.sort in SORTS and filters.sort != "sla" else "-updated"
    # A search looks through every ticket the user may see, whatever view it was typed in.
    if filters.q:
        qs = _apply_filters(TicketPolicy.visible_to(user), filters)
    else:
        qs = _apply_filters(_view_queryset(user, filters.view, view_q), filters)
        if filters.view == AT_RISK:
            sort = "sla"  # every at-risk ticket has a running clock: sla_due_at is set (ticket_sla_at_risk_idx)
    field_name, desc = SORTS[sort]
    position = decode_cursor(cursor) if cursor else None
    if position is not None:
        value, pk = position
        op = "lt" if desc else "gt"
        # The redundant `<=` bound lets PostgreSQL seek the index to the cursor instead of filtering from the top.
        qs = qs.filter(**{f"{field_name}__{op}e": value}).filter(
            Q(**{f"{field_name}__{op}": value}) | Q(**{field_name: value, f"pk__{op}": pk})
        )
    order = [f"-{field_name}", "-pk"] if desc else [field_name, "pk"]
    rows = list(
        qs.select_related("customer", "queue", "assignee", "category", "order")
        .prefetch_related("tags")
        .order_by(*order)[: limit + 1]
    )
    next_cursor = encode_cursor(rows[limit - 1], sort) if len(rows) > limit else None
    return InboxPage(rows[:limit], next_cursor, filters.view)
