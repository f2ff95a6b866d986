"""Customer satisfaction (CSAT): one rating per solved ticket, credited to the agent and queue that solved it."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.audit import audit_record
from helpdesk.masking import mask_text
from tickets.errors import InvalidInput, InvalidTransition, NotVisible
from tickets.locks import lock_ticket
from tickets.models import CsatResponse, Status, Ticket
from tickets.permissions import TicketPolicy
from tickets.services.tickets import _ticket_event

DEFAULT_UPDATE_DAYS = 7
MAX_COMMENT_CHARS = 2000


def csat_update_days() -> int:
    return int(getattr(settings, "CSAT_UPDATE_DAYS", DEFAULT_UPDATE_DAYS))


@transaction.atomic
def csat_record(
    *,
    ticket: Ticket,
    actor: AbstractBaseUser | None,
    score: int,
    comment: str = "",
) -> CsatResponse:
    """Store the rating on the ticket and as a CsatResponse (agent and queue of the solved ticket).

    `actor` is the customer's portal user, or None when a tracking link authenticated them (bind
    actor_label "customer:<id>" for the audit trail). A second rating within CSAT_UPDATE_DAYS of the first
    replaces it; later ones are refused. Comments are masked like messages (card keys, phone numbers).
    """
    if actor is not None and not TicketPolicy.can_post_as_customer(actor, ticket):
        raise NotVisible("No such ticket.")
    try:
        score = int(score)
    except (TypeError, ValueError):
        raise InvalidInput(_("Choose a score from 1 to 5."), field="score") from None
    if not 1 <= score <= 5:
        raise InvalidInput(_("Choose a score from 1 to 5."), field="score")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise InvalidInput(
            _("The comment is longer than %(limit)s characters.") % {"limit": MAX_COMMENT_CHARS}, field="comment"
        )
    order = ticket.order if ticket.order_id else None
    secrets = order.card_keys.reveal().splitlines() if order is not None and order.card_keys else []
    comment = mask_text(comment, secrets)
    ticket = lock_ticket(ticket.pk)
    if ticket.merged_into_id:
        raise InvalidTransition(_("This ticket was merged into another one."), field="score")
    existing = CsatResponse.objects.select_for_update().filter(ticket=ticket).first()
    now = timezone.now()
    if existing is None:
        if ticket.status not in {Status.SOLVED, Status.CLOSED}:
            raise InvalidTransition(_("You can rate this ticket once it is solved."), field="score")
        response = CsatResponse.objects.create(
            ticket=ticket, score=score, comment=comment, agent_id=ticket.assignee_id, queue_id=ticket.queue_id
        )
        action, changes = "ticket.csat_recorded", {"score": score, "comment": bool(comment)}
    else:
        if now - existing.created_at > timedelta(days=csat_update_days()):
            raise InvalidTransition(
                _("Ratings can be changed for %(days)s days; this one can no longer be changed.")
                % {"days": csat_update_days()},
                field="score",
            )
        changes = {"score": [existing.score, score], "comment": bool(comment)}
        existing.score, existing.comment = score, comment
        existing.save(update_fields=["score", "comment", "updated_at"])
        response, action = existing, "ticket.csat_updated"
    ticket.csat_score, ticket.csat_comment = score, comment
    ticket.save(update_fields=["csat_score", "csat_comment", "updated_at"])
    audit_record(actor=actor, action=action, obj=ticket, changes=changes)
    _ticket_event(ticket, "ticket.updated", fields=["csat"])
    return response
