"""Tracking links: follow a ticket without an account (/help/t/<token>/).

The plain token is returned once by `tracking_token_issue` and never stored: the table keeps its SHA-256.
An unknown, expired or revoked token all raise the same NotVisible, so a visitor learns nothing from the
difference.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.audit import audit_record
from tickets.errors import InvalidInput, NotVisible
from tickets.models import Ticket, TrackingToken

DEFAULT_TRACKING_DAYS = 30
# last_used_at is a hint for supervisors, not an audit record: stamp it at most this often per token.
LAST_USED_RESOLUTION = timedelta(minutes=5)
_TOKEN_BYTES = 32


def tracking_days() -> int:
    return int(getattr(settings, "TICKET_TRACKING_DAYS", DEFAULT_TRACKING_DAYS))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _well_formed(token: str) -> bool:
    return isinstance(token, str) and 20 <= len(token) <= 100 and token.replace("-", "").replace("_", "").isalnum()


@transaction.atomic
def tracking_token_issue(*, ticket: Ticket, actor: AbstractBaseUser | None = None, audit: bool = True) -> str:
    """Create a tracking link for the ticket and return its plain token (the only time it exists).

    `audit=False` is for links minted inside an e-mail notification: the change that caused the e-mail is
    audited in the same transaction, and the token row plus the outbox row (same ticket, same moment, keyed
    by the message or the solve) already record the issue — one more event per reply would only be noise.
    """
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    row = TrackingToken.objects.create(
        ticket=ticket, token_hash=token_hash(token), expires_at=timezone.now() + timedelta(days=tracking_days())
    )
    if audit:
        audit_record(
            actor=actor,
            action="ticket.tracking_link_issued",
            obj=ticket,
            changes={"token_id": row.pk, "expires_at": row.expires_at},
        )
    return token


def tracking_token_lookup(token: str) -> TrackingToken:
    """The active token row, with its ticket and what the tracking page shows joined; NotVisible otherwise."""
    if not _well_formed(token):
        raise NotVisible("No such ticket.")
    row = (
        TrackingToken.objects.select_related("ticket__customer", "ticket__order__customer", "ticket__shop")
        .filter(token_hash=token_hash(token))
        .first()
    )
    now = timezone.now()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise NotVisible("No such ticket.")
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        TrackingToken.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row


def tracking_token_resolve(token: str) -> Ticket:
    """The ticket a token opens, or NotVisible for an unknown, expired or revoked token (one error for all)."""
    return tracking_token_lookup(token).ticket


@transaction.atomic
def tracking_token_revoke(
    *,
    actor: AbstractBaseUser | None,
    token_ids: Sequence[int] = (),
    ticket: Ticket | None = None,
) -> int:
    """Revoke the given tokens, or every active token of a ticket; audited once per ticket. Returns the count."""
    if not token_ids and ticket is None:
        raise InvalidInput(_("Name the tokens or the ticket whose links to revoke."), field="token_ids")
    rows = TrackingToken.objects.select_for_update().filter(revoked_at__isnull=True)
    rows = rows.filter(pk__in=list(token_ids)) if token_ids else rows.filter(ticket=ticket)
    by_ticket: dict[int, list[int]] = {}
    for row_id, ticket_id in rows.order_by("pk").values_list("pk", "ticket_id"):
        by_ticket.setdefault(ticket_id, []).append(row_id)
    if not by_ticket:
        return 0
    now = timezone.now()
    revoked = TrackingToken.objects.filter(pk__in=[i for ids in by_ticket.values() for i in ids]).update(revoked_at=now)
    for owner in Ticket.objects.filter(pk__in=by_ticket).order_by("pk"):
        audit_record(
            actor=actor, action="ticket.tracking_link_revoked", obj=owner, changes={"token_ids": by_ticket[owner.pk]}
        )
    return revoked
