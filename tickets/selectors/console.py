"""Reads for the console's ticket page: canned replies, the customer's other tickets, saved views."""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet

from tickets.models import CannedReply, SavedView, Ticket
from tickets.permissions import TicketPolicy, User

PLACEHOLDER = re.compile(r"\{(customer|order|ticket|agent)\.([a-z_]+)\}")
ALLOWED_PLACEHOLDERS = {
    "customer": {"name", "email", "tier"},
    "order": {"order_no", "product", "amount", "currency", "quantity", "payment_status", "delivery_status"},
    "ticket": {"reference", "subject"},
    "agent": {"name"},
}


def canned_replies_for(user: User, ticket: Ticket) -> QuerySet[CannedReply]:
    """Active global replies and the ticket's shop's own; the ticket's language first, most used first."""
    return (
        CannedReply.objects.filter(is_active=True)
        .filter(Q(shop__isnull=True) | Q(shop_id=ticket.shop_id))
        .order_by("-usage_count", "title")
    )


def canned_reply_render(reply_body: str, *, ticket: Ticket, agent: User | None) -> str:
    """Fill {customer.name}, {order.order_no}… from the ticket's context; unknown or empty ones stay visible.
    With no agent (a rule's automatic reply) {agent.*} reads "CardDesk"."""

    def value(match: re.Match) -> str:
        kind, attr = match.group(1), match.group(2)
        if attr not in ALLOWED_PLACEHOLDERS[kind]:
            return match.group(0)
        if kind == "agent" and agent is None:
            return "CardDesk"
        if kind == "agent":
            profile = getattr(agent, "agent_profile", None)
            return (profile.display_name if profile and profile.display_name else agent.get_username()) or ""
        source = {"customer": ticket.customer, "order": ticket.order, "ticket": ticket}[kind]
        if source is None:
            return match.group(0)
        result = getattr(source, attr, "")
        return str(result) if result not in (None, "") else match.group(0)

    return PLACEHOLDER.sub(value, reply_body)


def customer_other_tickets(user: User, ticket: Ticket, limit: int = 10) -> list[Ticket]:
    return list(
        TicketPolicy.visible_to(user)
        .filter(customer_id=ticket.customer_id)
        .exclude(pk=ticket.pk)
        .only("reference", "subject", "status", "created_at")
        .order_by("-created_at")[:limit]
    )


def saved_views_for(user: User) -> QuerySet[SavedView]:
    return SavedView.objects.filter(Q(owner=user) | Q(shared=True)).select_related("owner")
