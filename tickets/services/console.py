"""Small console writes: saved views and canned-reply usage."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F

from helpdesk.audit import audit_record
from tickets.errors import InvalidInput, NotAllowed, NotVisible
from tickets.models import CannedReply, SavedView
from tickets.permissions import TicketPolicy


@transaction.atomic
def saved_view_create(*, actor: AbstractBaseUser, name: str, query: str, shared: bool = False) -> SavedView:
    name = name.strip()
    if not name:
        raise InvalidInput("Give the view a name.", field="name")
    if shared and not TicketPolicy.scope(actor).is_supervisor:
        raise NotAllowed("Only supervisors share views.")
    view, _created = SavedView.objects.update_or_create(
        owner=actor, name=name[:80], defaults={"query": query[:1000], "shared": shared}
    )
    audit_record(actor=actor, action="saved_view.save", obj=view, changes={"query": view.query, "shared": shared})
    return view


@transaction.atomic
def saved_view_delete(*, actor: AbstractBaseUser, view_id: int) -> None:
    view = SavedView.objects.filter(pk=view_id, owner=actor).first()
    if view is None:
        raise NotVisible("No such view.")
    audit_record(actor=actor, action="saved_view.delete", obj=view, changes={"name": view.name})
    view.delete()


def canned_reply_used(*, reply_id: int) -> None:
    """Count a use (for ranking the picker); not audited, it changes no customer-visible state."""
    CannedReply.objects.filter(pk=reply_id).update(usage_count=F("usage_count") + 1)
