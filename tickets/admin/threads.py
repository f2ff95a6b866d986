"""Messages and attachments: read-only (threads are written by the messaging services only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import linebreaksbr
from django.utils.translation import gettext_lazy as _

from helpdesk.admin import NotFoundAdminMixin, ReadOnlyAdminMixin
from tickets.admin.scoping import attachments_visible_to, messages_visible_to
from tickets.models import Attachment, Message
from tickets.services.content import body_text

_PREVIEW_CHARS = 80


def _text(message: Message) -> str:
    # Stored bodies are sanitised HTML with secrets masked; show them as escaped plain text.
    return linebreaksbr(body_text(message.body), autoescape=True)


def _attachment_names(message: Message) -> str:
    return ", ".join(f"{a.filename} ({a.size:,} B)" for a in message.attachments.all()) or "—"


class MessageInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The thread on the ticket's page. Internal notes included: only desk staff and merchants reach it."""

    model = Message
    fk_name = "ticket"
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    ordering = ["seq"]
    fields = ["seq", "author_kind", "author_name", "text", "is_internal", "channel", "attachment_names", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).prefetch_related("attachments")

    @admin.display(description=_("body"))
    def text(self, obj: Message) -> str:
        return _text(obj)

    @admin.display(description=_("attachments"))
    def attachment_names(self, obj: Message) -> str:
        return _attachment_names(obj)


@admin.register(Message)
class MessageAdmin(NotFoundAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "ticket_reference",
        "seq",
        "author_kind",
        "author_name",
        "is_internal",
        "channel",
        "preview",
        "created_at",
    ]
    # The largest table: a date filter instead of date_hierarchy, whose page-load aggregates scan it all.
    list_filter = [("created_at", admin.DateFieldListFilter), "author_kind", "is_internal", "channel"]
    search_fields = ["ticket__reference__exact", "author_name"]
    search_help_text = _("Exact ticket reference (T-000123) or author name.")
    list_select_related = ["ticket"]
    ordering = ["-id"]
    show_full_result_count = False
    fields = [
        "ticket",
        "seq",
        "author_kind",
        "author",
        "author_name",
        "text",
        "is_internal",
        "channel",
        "client_msg_id",
        "attachment_names",
        "created_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return messages_visible_to(request.user, super().get_queryset(request)).prefetch_related("attachments")

    @admin.display(description=_("ticket"), ordering="ticket__reference")
    def ticket_reference(self, obj: Message) -> str:
        return obj.ticket.reference

    @admin.display(description=_("body"))
    def preview(self, obj: Message) -> str:
        text = body_text(obj.body)
        return text if len(text) <= _PREVIEW_CHARS else text[:_PREVIEW_CHARS] + "…"

    @admin.display(description=_("body"))
    def text(self, obj: Message) -> str:
        return _text(obj)

    @admin.display(description=_("attachments"))
    def attachment_names(self, obj: Message) -> str:
        return _attachment_names(obj)


@admin.register(Attachment)
class AttachmentAdmin(NotFoundAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Metadata only: the stored file is not linked from here (a media URL would skip the ticket policy)."""

    list_display = ["filename", "content_type", "size", "ticket_reference", "message", "created_at"]
    list_filter = ["content_type"]
    search_fields = ["filename", "sha256__exact", "message__ticket__reference__exact"]
    date_hierarchy = "created_at"
    list_select_related = ["message__ticket"]
    ordering = ["-id"]
    fields = ["message", "ticket_reference", "filename", "content_type", "size", "sha256", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Attachment]:
        return attachments_visible_to(request.user, super().get_queryset(request))

    @admin.display(description=_("ticket"), ordering="message__ticket__reference")
    def ticket_reference(self, obj: Attachment) -> Any:
        return obj.message.ticket.reference
