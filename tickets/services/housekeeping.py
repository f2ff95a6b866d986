"""Periodic upkeep (Celery beat): close tickets solved long ago, remind customers of pending ones once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from helpdesk import context
from helpdesk.audit import audit_record
from tickets.models import Status, Ticket
from tickets.services.notifications import _already, _enqueue, _recipient, tracking_url
from tickets.services.tickets import ticket_change_status
from tickets.services.tracking import tracking_token_issue

logger = logging.getLogger(__name__)


def solved_autoclose(*, now: datetime | None = None, batch: int = 500) -> int:
    """Close tickets solved more than AUTO_CLOSE_DAYS ago (a closed ticket no longer reopens)."""
    days = settings.AUTO_CLOSE_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    closed = 0
    with context.bound(actor_label="autoclose"):
        while True:
            with transaction.atomic():
                due = list(
                    Ticket.objects.select_for_update(skip_locked=True)
                    .filter(status=Status.SOLVED, solved_at__lt=cutoff)
                    .order_by("solved_at")[:batch]
                )
                for ticket in due:
                    ticket_change_status(ticket=ticket, actor=None, status=Status.CLOSED)
                closed += len(due)
            if len(due) < batch:
                return closed


def pending_remind(*, now: datetime | None = None, limit: int = 500) -> int:
    """One e-mail per pending stint to customers the desk has waited on for PENDING_REMIND_HOURS."""
    hours = settings.PENDING_REMIND_HOURS
    if hours <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(hours=hours)
    candidates = (
        Ticket.objects.filter(status=Status.PENDING, updated_at__lt=cutoff)
        .exclude(customer__email="")
        .select_related("customer", "shop")
        .order_by("updated_at")[:limit]
    )
    sent = 0
    for ticket in candidates:
        since = ticket.last_agent_message_at or ticket.updated_at
        key = f"pending-reminder:{ticket.pk}:{int(since.timestamp())}"
        if _already(key) or not _recipient(ticket):
            continue
        with transaction.atomic():
            token = tracking_token_issue(ticket=ticket, audit=False)
            _enqueue(ticket, template="pending_reminder", key=key, link=tracking_url(token))
            audit_record(actor=None, action="ticket.pending_reminder", obj=ticket, changes={"key": key})
        sent += 1
    return sent
