"""Reads of tickets and their messages, always through TicketPolicy."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from helpdesk.models import AuditEvent
from tickets.errors import NotVisible
from tickets.models import Message, Ticket
from tickets.permissions import TicketPolicy, User


def ticket_list_visible_to(user: User, *, filters: dict | None = None) -> QuerySet[Ticket]:
    """Tickets the user may see, with what a list row shows joined up front."""
    qs = TicketPolicy.visible_to(user).select_related("customer", "queue", "assignee", "category", "shop")
    filters = filters or {}
    for field in ("status", "priority", "channel", "queue_id", "assignee_id", "category_id", "shop_id"):
        value = filters.get(field)
        if value not in (None, ""):
            qs = qs.filter(**{f"{field}__in" if isinstance(value, list | tuple) else field: value})
    if filters.get("tag"):
        qs = qs.filter(tags__name=filters["tag"])
    return qs.order_by("-updated_at", "-id")


def ticket_get_visible(user: User, *, pk: int | None = None, reference: str | None = None) -> Ticket:
    """One ticket, or NotVisible whether it is missing or hidden (the caller answers 404 either way)."""
    qs = Ticket.objects.select_related("customer", "order", "queue", "assignee", "category", "shop")
    try:
        ticket = qs.get(pk=pk) if pk is not None else qs.get(reference=reference)
    except (Ticket.DoesNotExist, ValueError, TypeError):
        raise NotVisible("No such ticket.") from None
    if not TicketPolicy.can_view(user, ticket):
        raise NotVisible("No such ticket.")
    return ticket


def message_list_for(user: User, ticket: Ticket, *, after_seq: int = 0) -> QuerySet[Message]:
    """The thread as this user may read it: customers never see internal notes."""
    qs = (
        Message.objects.filter(ticket=ticket, seq__gt=after_seq)
        .select_related("author")
        .prefetch_related(Prefetch("attachments"))
        .order_by("seq")
    )
    if not (TicketPolicy.can_reply(user, ticket) or TicketPolicy.scope(user).is_supervisor):
        qs = qs.filter(is_internal=False)
    return qs


def ticket_audit_trail(user: User, ticket: Ticket) -> QuerySet[AuditEvent]:
    if not TicketPolicy.can_reply(user, ticket):
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(object_type="tickets.ticket", object_id=str(ticket.pk)).select_related("actor")
