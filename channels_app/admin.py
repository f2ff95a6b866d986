"""Supervisors configure widgets (origins, queue, bot) and read chats; chats change only through the services."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from channels_app.models import ChatSession, ChatTransfer, ChatWidget
from helpdesk.admin import AuditedAdminMixin, NotFoundAdminMixin
from tickets.permissions import ShopPolicy, TicketPolicy


@admin.register(ChatWidget)
class ChatWidgetAdmin(NotFoundAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["shop", "public_key", "queue", "is_enabled", "bot_enabled", "missed_after_seconds"]
    list_filter = ["is_enabled", "bot_enabled"]
    readonly_fields = ["public_key", "embed_snippet"]
    fields = ["shop", "public_key", "embed_snippet", "allowed_origins", "queue", "is_enabled", "bot_enabled",
              "greeting", "missed_after_seconds"]  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChatWidget]:
        q = ShopPolicy.shop_filter(request.user)
        queryset = super().get_queryset(request).select_related("shop", "queue")
        return queryset if q is None else queryset.filter(q)

    @admin.display(description=_("Embed code"))
    def embed_snippet(self, obj: ChatWidget) -> str:
        if not obj.pk:
            return "—"
        snippet = '<script src="{}/static/chat/widget.js" data-key="{}" data-token="…" async></script>'
        return format_html("<code>{}</code>", snippet.format("https://your-desk.example.com", obj.public_key))


class ChatTransferInline(admin.TabularInline):
    model = ChatTransfer
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "actor", "from_agent", "to_agent", "to_queue", "note"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ChatSession)
class ChatSessionAdmin(NotFoundAdminMixin, admin.ModelAdmin):
    """Read-only: chats are changed by the customer and agents through the services, never by hand."""

    list_display = ["id", "shop", "ticket", "customer", "state", "queue", "agent", "queued_at", "end_reason"]
    list_filter = ["state", "end_reason", "shop"]
    list_select_related = ["shop", "ticket", "customer", "queue", "agent"]
    inlines = [ChatTransferInline]
    exclude = ["resume_token_hash"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChatSession]:
        queryset = super().get_queryset(request)
        visible = TicketPolicy.visible_to(request.user).values("pk")
        return (
            queryset.filter(ticket_id__in=visible) if not TicketPolicy.scope(request.user).is_supervisor else queryset
        )

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "resume_token_hash"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
