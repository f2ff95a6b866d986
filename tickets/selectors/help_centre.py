"""Reads for the public help centre: what a customer may see of their own tickets, and nothing else."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from helpdesk.models import Shop
from tickets.errors import NotVisible
from tickets.models import Attachment, Customer, Message, Order, Ticket
from tickets.permissions import User


def order_find(*, shop: Shop, order_no: str) -> Order | None:
    """The shop's order with this number (exact, surrounding spaces ignored), or None."""
    order_no = (order_no or "").strip()
    if not order_no or len(order_no) > 64:
        return None
    return Order.objects.filter(shop=shop, order_no=order_no).select_related("customer").first()


def public_thread(ticket: Ticket) -> QuerySet[Message]:
    """The conversation as the customer sees it: never internal notes, whoever is looking.

    (`message_list_for` would show notes to a desk user who opens a customer's tracking link.)
    """
    return (
        Message.objects.filter(ticket=ticket, is_internal=False)
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("seq")
    )


def public_attachment(ticket: Ticket, attachment_id: int) -> Attachment:
    attachment = (
        Attachment.objects.filter(pk=attachment_id, message__ticket=ticket, message__is_internal=False)
        .select_related("message")
        .first()
    )
    if attachment is None:
        raise NotVisible("No such file.")
    return attachment


def customer_for_user(user: User, shop: Shop | None) -> Customer | None:
    """The shop's customer row linked to this portal login, if any."""
    if shop is None or not getattr(user, "is_authenticated", False):
        return None
    return Customer.objects.filter(shop=shop, user_id=user.pk).order_by("-id").first()


def help_tickets_of(user: User) -> QuerySet[Ticket]:
    """The logged-in customer's own tickets (through Customer.user), newest activity first.

    This is TicketPolicy's "own customer ticket" rule (`customer__user_id`), applied alone: a desk member's
    queues are not "my tickets", and the list skips the policy's guardian look-ups (11 queries) it does not need.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Ticket.objects.none()
    return Ticket.objects.filter(customer__user_id=user.pk).select_related("shop").order_by("-updated_at", "-id")


def help_ticket_of(user: User, reference: str) -> Ticket:
    """One of the logged-in customer's own tickets, or NotVisible (missing and foreign look the same)."""
    ticket = (
        help_tickets_of(user)
        .select_related("customer", "order__customer", "shop")
        .filter(reference=(reference or "").strip().upper())
        .first()
    )
    if ticket is None:
        raise NotVisible("No such ticket.")
    return ticket
