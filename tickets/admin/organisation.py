"""Desk configuration: queues, agent profiles, categories, tags, canned replies.

Supervisors manage them (their role holds the add/change permissions); every save and delete is audited.
Agents hold view permissions on categories, tags and canned replies and see them read-only; canned replies
are limited to the global ones and those of shops they reach. Merchants hold no permission on these models
and do not see them in admin; the scoped querysets still feed the ticket list's filters and autocompletes.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from helpdesk.admin import AuditedAdminMixin, NotFoundAdminMixin
from tickets.admin.common import GrantsAdminMixin, ScopedRelatedFieldListFilter
from tickets.admin.forms import AgentProfileAdminForm, CategoryAdminForm, QueueAdminForm
from tickets.admin.scoping import canned_replies_visible_to, is_supervisor, queues_visible_to
from tickets.models import AgentProfile, CannedReply, Category, Queue, Tag
from tickets.services.sla_upkeep import sla_queue_changed


def _joined(values: list[str]) -> str:
    return ", ".join(values) or "—"


@admin.register(Queue)
class QueueAdmin(NotFoundAdminMixin, AuditedAdminMixin, GrantsAdminMixin, admin.ModelAdmin):
    """Agents and groups are given a queue on its "Object permissions" page (`tickets.work_queue`)."""

    form = QueueAdminForm
    grantable_perms = ("work_queue",)
    list_display = [
        "name",
        "slug",
        "shop",
        "skills_display",
        "is_vip",
        "is_active",
        "overflow_queue",
        "overflow_threshold",
    ]
    list_filter = ["is_active", "is_vip", ("shop", ScopedRelatedFieldListFilter)]
    search_fields = ["name", "slug"]
    list_select_related = ["shop", "overflow_queue"]
    autocomplete_fields = ["shop", "overflow_queue"]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Queue]:
        return queues_visible_to(request.user, super().get_queryset(request))

    def save_model(self, request: HttpRequest, obj: Queue, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "sla_policy" in form.changed_data:
            sla_queue_changed()

    def delete_model(self, request: HttpRequest, obj: Queue) -> None:
        super().delete_model(request, obj)
        sla_queue_changed()

    @admin.display(description=_("skills"))
    def skills_display(self, obj: Queue) -> str:
        return _joined(obj.skills)


@admin.register(AgentProfile)
class AgentProfileAdmin(NotFoundAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    """Working attributes only; which queues an agent works is granted on the queue."""

    form = AgentProfileAdminForm
    list_display = [
        "__str__",
        "user",
        "presence",
        "presence_changed_at",
        "max_concurrent_chats",
        "skills_display",
        "language",
        "time_zone",
    ]
    list_filter = ["presence", "language"]
    search_fields = ["display_name", "user__username", "user__email"]
    list_select_related = ["user"]
    # Presence is live state owned by the console.
    readonly_fields = ["presence", "presence_changed_at", "created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgentProfile]:
        queryset = super().get_queryset(request)
        return queryset if is_supervisor(request.user) else queryset.filter(user_id=request.user.pk)

    def get_readonly_fields(self, request: HttpRequest, obj: AgentProfile | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "user"] if obj is not None else fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user":
            # Staff accounts without a profile yet (users are not searchable here: no auth.view_user).
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(is_staff=True, is_active=True, agent_profile__isnull=True)
                .order_by("username")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("skills"))
    def skills_display(self, obj: AgentProfile) -> str:
        return _joined(obj.skills)


@admin.register(Category)
class CategoryAdmin(NotFoundAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    form = CategoryAdminForm
    list_display = ["__str__", "name_en", "slug", "parent", "default_queue", "is_active"]
    list_filter = ["is_active", ("parent", ScopedRelatedFieldListFilter)]
    search_fields = ["name", "name_en", "slug"]
    list_select_related = ["parent", "default_queue"]
    autocomplete_fields = ["parent", "default_queue"]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        # str() of a category names its parent: join it for lists, filters and autocomplete results.
        return super().get_queryset(request).select_related("parent")


@admin.register(Tag)
class TagAdmin(NotFoundAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "swatch", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["created_at"]

    @admin.display(description=_("colour"))
    def swatch(self, obj: Tag) -> str:
        return format_html(
            '<span style="display:inline-block;width:1em;height:1em;background:{};vertical-align:middle"></span> {}',
            obj.color,
            obj.color,
        )


@admin.register(CannedReply)
class CannedReplyAdmin(NotFoundAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "shortcut", "language", "shop", "category", "is_active", "usage_count", "updated_at"]
    list_filter = [
        "is_active",
        "language",
        ("shop", ScopedRelatedFieldListFilter),
        ("category", ScopedRelatedFieldListFilter),
    ]
    search_fields = ["title", "shortcut", "body"]
    list_select_related = ["shop", "category", "category__parent"]
    autocomplete_fields = ["shop", "category"]
    readonly_fields = ["usage_count", "created_by", "created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CannedReply]:
        return canned_replies_visible_to(request.user, super().get_queryset(request))

    def save_model(self, request: HttpRequest, obj: CannedReply, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
