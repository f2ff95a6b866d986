"""Console writes: composite actions of the ticket page, saved views and canned-reply usage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from helpdesk.audit import audit_record
from tickets.errors import InvalidInput, NotAllowed, NotVisible
from tickets.models import CannedReply, Category, Queue, SavedView, Ticket
from tickets.permissions import TicketPolicy
from tickets.services.messages import PostResult, agent_reply_post, internal_note_post
from tickets.services.tickets import ticket_assign, ticket_change_status, ticket_update


@transaction.atomic
def saved_view_create(*, actor: AbstractBaseUser, name: str, query: str, shared: bool = False) -> SavedView:
    name = name.strip()
    if not name:
        raise InvalidInput(_("Give the view a name."), field="name")
    if shared and not TicketPolicy.scope(actor).is_supervisor:
        raise NotAllowed(_("Only supervisors share views."))
    view, _created = SavedView.objects.update_or_create(
        owner=actor, name=name[:80], defaults={"query": query[:1000], "shared": shared}
    )
    audit_record(actor=actor, action="saved_view.save", obj=view, changes={"query": view.query, "shared": shared})
    return view


@transaction.atomic
def saved_view_delete(*, actor: AbstractBaseUser, view_id: int) -> None:
    view = SavedView.objects.filter(pk=view_id, owner=actor).first()
    if view is None:
        raise NotVisible(_("No such view."))
    audit_record(actor=actor, action="saved_view.delete", obj=view, changes={"name": view.name})
    view.delete()


def canned_reply_used(*, reply_id: int, shop_id: int) -> None:
    """Count a use (for ranking the picker) of a reply the ticket's shop may use; not audited, it changes no
    customer-visible state."""
    CannedReply.objects.filter(Q(shop__isnull=True) | Q(shop_id=shop_id), pk=reply_id).update(
        usage_count=F("usage_count") + 1
    )


_UNSET: Any = object()


@transaction.atomic
def ticket_edit(
    *,
    ticket: Ticket,
    actor: AbstractBaseUser,
    status: str | None = None,
    priority: str = _UNSET,
    category: Category | None = _UNSET,
    queue: Queue | None = _UNSET,
    assignee: AbstractBaseUser | None = _UNSET,
    tags: Sequence[str] = _UNSET,
) -> Ticket:
    """The console side panel as one all-or-nothing change: fields, then assignee, then status.

    `status` is compared with the status the agent saw: assigning opens a new ticket by itself, and an
    untouched "new" must not then be forced back.
    """
    seen_status = ticket.status
    updates = {
        name: value
        for name, value in (("priority", priority), ("category", category), ("queue", queue), ("tags", tags))
        if value is not _UNSET
    }
    if updates:
        ticket = ticket_update(ticket=ticket, actor=actor, **updates)
    if assignee is not _UNSET and (assignee.pk if assignee else None) != ticket.assignee_id:
        ticket = ticket_assign(ticket=ticket, actor=actor, assignee=assignee)
    if status is not None and status != seen_status:
        ticket = ticket_change_status(ticket=ticket, actor=actor, status=status)
    return ticket


@transaction.atomic
def ticket_respond(
    *,
    ticket: Ticket,
    actor: AbstractBaseUser,
    kind: str,
    body: str,
    client_msg_id: str | None = None,
    attachments: Sequence[UploadedFile] = (),
    then_status: str | None = None,
    canned_reply_id: int | None = None,
) -> PostResult:
    """Reply or note, optionally followed by a status change — both or neither (a refused status sends nothing)."""
    post = agent_reply_post if kind == "reply" else internal_note_post
    result = post(ticket=ticket, actor=actor, body=body, client_msg_id=client_msg_id, attachments=attachments)
    if then_status:
        ticket_change_status(ticket=ticket, actor=actor, status=then_status)
    if canned_reply_id and result.created:
        canned_reply_used(reply_id=canned_reply_id, shop_id=ticket.shop_id)
    return result
