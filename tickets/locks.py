"""Row locks taken in one fixed order (ascending id), so two services locking the same tickets never deadlock."""

from __future__ import annotations

from tickets.models import Ticket


def lock_tickets(*ids: int) -> dict[int, Ticket]:
    rows = Ticket.objects.select_for_update().filter(pk__in=sorted(set(ids))).order_by("pk")
    return {ticket.pk: ticket for ticket in rows}


def lock_ticket(ticket_id: int) -> Ticket:
    return lock_tickets(ticket_id)[ticket_id]
