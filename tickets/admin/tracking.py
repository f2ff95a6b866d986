"""Admin for the help centre's side data: tracking links (revocable), satisfaction responses, outgoing e-mails.

Supervisors only (the same test as TicketPolicy); everything is read-only here except revoking links, which
goes through the audited service.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from helpdesk.admin import NotFoundAdminMixin, ReadOnlyAdminMixin, is_supervisor
from helpdesk.models import OutboxEmail
from tickets.models import CsatResponse, Ticket, TrackingToken
from tickets.services.tracking import tracking_token_revoke


class SupervisorOnlyAdminMixin:
    """Visible to supervisors only, whatever model permissions a group holds."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_supervisor(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_supervisor(request.user)


class TrackingStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [("active", _("Active")), ("expired", _("Expired")), ("revoked", _("Revoked"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[TrackingToken]) -> QuerySet[TrackingToken]:
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True, expires_at__gt=now)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(TrackingToken)
class TrackingTokenAdmin(SupervisorOnlyAdminMixin, NotFoundAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Links customers follow their tickets with. The token itself is never stored, so never shown."""

    list_display = ["ticket_reference", "state", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = [TrackingStateFilter]
    search_fields = ["ticket__reference__exact"]
    search_help_text = _("Exact ticket reference (T-000123).")
    list_select_related = ["ticket"]
    ordering = ["-id"]
    show_full_result_count = False
    fields = ["ticket", "state", "created_at", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke_selected", "revoke_all_of_tickets"]

    @admin.display(description=_("ticket"), ordering="ticket__reference")
    def ticket_reference(self, obj: TrackingToken) -> str:
        return obj.ticket.reference

    @admin.display(description=_("state"))
    def state(self, obj: TrackingToken) -> str:
        if obj.revoked_at is not None:
            return str(_("Revoked"))
        return str(_("Active") if obj.expires_at > timezone.now() else _("Expired"))

    @admin.action(description=_("Revoke the selected links"))
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[TrackingToken]) -> None:
        count = tracking_token_revoke(actor=request.user, token_ids=list(queryset.values_list("pk", flat=True)))
        self._report(request, count)

    @admin.action(description=_("Revoke every link of the selected links' tickets"))
    def revoke_all_of_tickets(self, request: HttpRequest, queryset: QuerySet[TrackingToken]) -> None:
        tickets = Ticket.objects.filter(pk__in=queryset.values("ticket_id")).order_by("pk")
        count = sum(tracking_token_revoke(actor=request.user, ticket=ticket) for ticket in tickets)
        self._report(request, count)

    def _report(self, request: HttpRequest, count: int) -> None:
        message = ngettext("%(count)d link revoked.", "%(count)d links revoked.", count) % {"count": count}
        self.message_user(request, message, messages.SUCCESS if count else messages.INFO)


@admin.register(CsatResponse)
class CsatResponseAdmin(SupervisorOnlyAdminMixin, NotFoundAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["ticket_reference", "score", "agent", "queue", "created_at", "updated_at"]
    list_filter = ["score", "queue"]
    search_fields = ["ticket__reference__exact"]
    list_select_related = ["ticket", "agent", "queue"]
    ordering = ["-id"]
    fields = ["ticket", "score", "comment", "agent", "queue", "created_at", "updated_at"]
    readonly_fields = fields

    @admin.display(description=_("ticket"), ordering="ticket__reference")
    def ticket_reference(self, obj: CsatResponse) -> str:
        return obj.ticket.reference


@admin.register(OutboxEmail)
class OutboxEmailAdmin(SupervisorOnlyAdminMixin, NotFoundAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Outgoing e-mails and their delivery state; bodies print masked (their links' tokens hidden)."""

    list_display = ["key", "to", "subject", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "template", "language"]
    search_fields = ["key", "to"]
    ordering = ["-id"]
    show_full_result_count = False
    fields = [
        "key",
        "to",
        "subject",
        "template",
        "language",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "created_at",
        "sent_at",
        "body_text",
    ]
    readonly_fields = fields
