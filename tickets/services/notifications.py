"""E-mails to customers about their tickets, recorded in the outbox inside the caller's transaction.

Called by the ticket services at the moment of the change (a public reply, a solve) and by the help centre
(confirmation, a new tracking link). Every e-mail carries a fresh tracking link, because only the hash of a
token is stored; the idempotency key makes a repeated call store (and send) nothing new.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from helpdesk.models import OutboxEmail
from helpdesk.outbox import email_enqueue
from tickets.models import CsatResponse, Message, Status, Ticket
from tickets.services.content import body_text
from tickets.services.tracking import tracking_days, tracking_token_issue

DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"

_suppressed: contextvars.ContextVar[bool] = contextvars.ContextVar("carddesk_notifications_off", default=False)


@contextlib.contextmanager
def notifications_suppressed() -> Iterator[None]:
    """No reply / CSAT e-mails for changes made inside this block (demo data, imports, backfills)."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def public_url(path: str) -> str:
    """An absolute link for e-mails (no request here): PUBLIC_BASE_URL + path."""
    base = str(getattr(settings, "PUBLIC_BASE_URL", "") or DEFAULT_PUBLIC_BASE_URL).rstrip("/")
    return base + path


def tracking_url(token: str) -> str:
    return public_url(reverse("help:track", args=[token]))


def rate_url(token: str) -> str:
    return public_url(reverse("help:rate", args=[token]))


def _recipient(ticket: Ticket) -> str:
    return (ticket.customer.email or "").strip()


def _context(ticket: Ticket, **extra: Any) -> dict[str, Any]:
    return {
        "ticket": ticket,
        "reference": ticket.reference,
        "subject": ticket.subject,
        "shop_name": ticket.shop.name,
        "customer_name": ticket.customer.name,
        "tracking_days": tracking_days(),
        **extra,
    }


def _already(key: str) -> bool:
    return OutboxEmail.objects.filter(key=key).exists()


def _enqueue(ticket: Ticket, *, template: str, key: str, **extra: Any) -> OutboxEmail:
    return email_enqueue(
        to=_recipient(ticket),
        template=template,
        context=_context(ticket, **extra),
        key=key,
        language=ticket.customer.language or ticket.language,
    )


@transaction.atomic
def ticket_received_notify(*, ticket: Ticket, token: str) -> OutboxEmail | None:
    """The confirmation of a help-centre request, carrying the same tracking link as the confirmation page."""
    if not _recipient(ticket):
        return None
    return _enqueue(ticket, template="ticket_received", key=f"ticket-received:{ticket.pk}", link=tracking_url(token))


@transaction.atomic
def tracking_link_notify(*, ticket: Ticket, request_key: str) -> OutboxEmail | None:
    """A new tracking link the customer asked for (one e-mail per `request_key`)."""
    key = f"tracking-link:{ticket.pk}:{request_key}"
    if not _recipient(ticket) or _already(key):
        return None
    token = tracking_token_issue(ticket=ticket)  # asked for by the customer: audited
    return _enqueue(ticket, template="tracking_link", key=key, link=tracking_url(token))


def agent_reply_notify(*, ticket: Ticket, message: Message) -> OutboxEmail | None:
    """Tell the customer the desk answered (public replies only). Called by agent_reply_post in its transaction.

    While a live chat is in progress the customer reads the reply in the widget; once it ended or was missed
    (no agent in time, the customer left) the conversation continues as a ticket and replies are e-mailed.
    """
    key = f"agent-reply:{message.pk}"
    if _suppressed.get() or message.is_internal or ticket.live_chat:
        return None
    if not _recipient(ticket) or _already(key):
        return None
    token = tracking_token_issue(ticket=ticket, audit=False)
    return _enqueue(
        ticket,
        template="agent_reply",
        key=key,
        link=tracking_url(token),
        author_name=message.author_name,
        reply_text=body_text(message.body),
    )


def ticket_status_notify(*, ticket: Ticket, before: str) -> OutboxEmail | None:
    """On solve, ask for a satisfaction rating (once per solve). Called by ticket_change_status in its transaction."""
    if _suppressed.get() or ticket.status != Status.SOLVED or before == Status.SOLVED or ticket.solved_at is None:
        return None
    key = f"csat-request:{ticket.pk}:{int(ticket.solved_at.timestamp())}"
    if not _recipient(ticket) or _already(key) or CsatResponse.objects.filter(ticket_id=ticket.pk).exists():
        return None
    token = tracking_token_issue(ticket=ticket, audit=False)
    return _enqueue(
        ticket,
        template="csat_request",
        key=key,
        link=tracking_url(token),
        rate_link=rate_url(token),
        scores=[(score, f"{rate_url(token)}?score={score}") for score in range(5, 0, -1)],
    )
