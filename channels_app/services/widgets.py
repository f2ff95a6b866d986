"""Widgets: one per shop, created by supervisors in the admin or by the demo seed."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from channels_app.models import ChatWidget
from helpdesk.audit import audit_record
from helpdesk.models import Shop
from tickets.models import Queue


@transaction.atomic
def chat_widget_ensure(
    *, shop: Shop, actor: AbstractBaseUser | None, queue: Queue | None = None, allowed_origins: list[str] | None = None
) -> ChatWidget:
    """The shop's widget, created when missing (enabled, answering in `queue`)."""
    widget = ChatWidget.objects.filter(shop=shop).first()
    if widget is not None:
        return widget
    widget = ChatWidget.objects.create(shop=shop, queue=queue, allowed_origins=list(allowed_origins or []))
    audit_record(
        actor=actor,
        action="chat_widget.create",
        obj=widget,
        changes={"queue": queue.pk if queue else None, "allowed_origins": widget.allowed_origins},
    )
    return widget
