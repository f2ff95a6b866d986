"""Admin for the core: the audit trail, its checkpoints, and the mixins every app's admin builds on.

The core imports no app (DESIGN.md §2), so the Shop admin — scoped by `tickets.permissions.ShopPolicy` — is
registered from `tickets/admin/shops.py`. Supervisors are recognised here the way the policy does it
(superuser or the global `tickets.view_all_tickets` permission), by permission string.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models import QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from helpdesk.audit import audit_chain_verify, audit_record
from helpdesk.models import AuditCheckpoint, AuditEvent

REDACTED_VALUE = "(set)"


def is_supervisor(user: Any) -> bool:
    """Same test as TicketPolicy.scope().is_supervisor, without importing the tickets app."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_superuser or user.has_perm("tickets.view_all_tickets"))
    )


class NotFoundAdminMixin:
    """Objects missing from get_queryset answer 404, like every other interface (STYLE.md habit 5).

    Django's admin redirects to the index with a "doesn't exist" warning instead; the change, delete and
    history views all go through this hook.
    """

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str) -> HttpResponse:
        raise Http404(_("No such object."))


def _audit_value(value: Any) -> Any:
    if isinstance(value, QuerySet):
        return sorted(str(item) for item in value)
    if isinstance(value, models.Model):
        return {"id": value.pk, "repr": str(value)[:100]}
    return value


def form_changes(form: Form, secret_fields: frozenset[str] = frozenset()) -> dict[str, Any]:
    """New values of the fields the form changed; secrets by presence only."""
    return {
        name: REDACTED_VALUE if name in secret_fields else _audit_value(form.cleaned_data.get(name))
        for name in form.changed_data
    }


class AuditedAdminMixin:
    """Config saves and deletes in admin leave an audit event "<model>.create|update|delete" (invariant 6)."""

    audit_secret_fields: frozenset[str] = frozenset()

    def audit_action(self, obj: models.Model, verb: str) -> str:
        return f"{obj._meta.model_name}.{verb}"

    def save_model(self, request: HttpRequest, obj: models.Model, form: Form, change: bool) -> None:
        # The admin already runs the save in a transaction; audit_record insists on one, so be explicit.
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            changes = form_changes(form, self.audit_secret_fields)
            if change and not changes:
                return
            audit_record(
                actor=request.user,
                action=self.audit_action(obj, "update" if change else "create"),
                obj=obj,
                changes=changes,
            )

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        with transaction.atomic():
            audit_record(actor=request.user, action=self.audit_action(obj, "delete"), obj=obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        with transaction.atomic():
            for obj in queryset:
                audit_record(actor=request.user, action=self.audit_action(obj, "delete"), obj=obj)
            super().delete_queryset(request, queryset)


class ReadOnlyAdminMixin:
    """Rows written only by services or append-only by design: viewable, never added, changed or deleted."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StaffActorFilter(admin.SimpleListFilter):
    """Actors to filter by: staff accounts only (the stock filter would list every customer login)."""

    title = _("actor")
    parameter_name = "actor"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        users = get_user_model().objects.filter(is_staff=True).order_by("username").values_list("pk", "username")
        return [("system", _("system (no user)")), *((str(pk), name) for pk, name in users)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "system":
            return queryset.filter(actor__isnull=True)
        if value and value.isdigit():
            return queryset.filter(actor_id=int(value))
        return queryset


def _short(value: str) -> str:
    return f"{value[:12]}…" if value else ""


@admin.register(AuditEvent)
class AuditEventAdmin(NotFoundAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The append-only trail, for supervisors only (it spans every shop)."""

    list_display = [
        "id",
        "created_at",
        "action",
        "actor_label",
        "object_type",
        "object_id",
        "object_repr",
        "ip",
        "request_id",
        "short_hash",
    ]
    # A date filter rather than date_hierarchy: the hierarchy aggregates MIN/MAX and distinct dates over the
    # whole (unindexed by date, ever-growing) table on every page load.
    list_filter = [("created_at", admin.DateFieldListFilter), "action", "object_type", StaffActorFilter]
    search_fields = ["object_id__exact", "request_id__exact"]
    search_help_text = _("Exact object id or request id.")
    show_full_result_count = False
    fields = [
        "created_at",
        "actor",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "changes_pretty",
        "ip",
        "request_id",
        "prev_hash",
        "hash",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        queryset = super().get_queryset(request)
        return queryset if is_supervisor(request.user) else queryset.none()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_supervisor(request.user) and super().has_view_permission(request, obj)

    @admin.display(description=_("hash"))
    def short_hash(self, obj: AuditEvent) -> str:
        return _short(obj.hash)

    @admin.display(description=_("changes"))
    def changes_pretty(self, obj: AuditEvent) -> str:
        text = json.dumps(obj.changes, ensure_ascii=False, indent=2, sort_keys=True)
        return format_html('<pre style="margin:0">{}</pre>', text)

    def get_urls(self) -> list:
        info = self.opts.app_label, self.opts.model_name
        return [
            path("verify/", self.admin_site.admin_view(self.verify_view), name="{}_{}_verify".format(*info)),
            *super().get_urls(),
        ]

    def verify_view(self, request: HttpRequest) -> HttpResponse:
        """Recompute the whole hash chain and report the result on the changelist."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise Http404(_("No such object."))
        report = audit_chain_verify()
        if report.ok:
            self.message_user(
                request,
                _("Audit chain OK: %(count)d events verified.") % {"count": report.checked},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                _("Audit chain BROKEN at event #%(id)s: %(reason)s (%(count)d events verified before it).")
                % {"id": report.first_bad_id, "reason": report.reason, "count": report.checked},
                messages.ERROR,
            )
        return HttpResponseRedirect(reverse("admin:helpdesk_auditevent_changelist", current_app=self.admin_site.name))


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(NotFoundAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "created_at", "last_event_id", "short_last_hash", "event_count", "short_signature"]
    date_hierarchy = "created_at"
    fields = ["created_at", "last_event_id", "last_hash", "event_count", "signature"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditCheckpoint]:
        queryset = super().get_queryset(request)
        return queryset if is_supervisor(request.user) else queryset.none()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Checkpoints are part of the trail: whoever may read the events may read them.
        return is_supervisor(request.user) and (
            super().has_view_permission(request, obj) or request.user.has_perm("helpdesk.view_auditevent")
        )

    @admin.display(description=_("last hash"))
    def short_last_hash(self, obj: AuditCheckpoint) -> str:
        return _short(obj.last_hash)

    @admin.display(description=_("signature"))
    def short_signature(self, obj: AuditCheckpoint) -> str:
        return _short(obj.signature)
