"""Automation configuration for supervisors: business calendars, SLA policies, rules (with a dry-run
preview and their execution log), and read-only logs: SLA events, rule executions, classifier models.

Saves are audited (AuditedAdminMixin); a policy or calendar edit recomputes its open tickets in the
background (tickets.services.sla_upkeep.sla_config_changed)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from helpdesk import context
from helpdesk.admin import AuditedAdminMixin, NotFoundAdminMixin, ReadOnlyAdminMixin
from tickets.models import (
    Calendar,
    CalendarOverride,
    CalendarSlot,
    ClassifierModel,
    Rule,
    RuleExecution,
    SlaEvent,
    SlaPolicy,
)
from tickets.services.automation import rule_preview
from tickets.services.sla_upkeep import sla_config_changed


class CalendarSlotInline(admin.TabularInline):
    model = CalendarSlot
    extra = 0


class CalendarOverrideInline(admin.TabularInline):
    model = CalendarOverride
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(NotFoundAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "time_zone", "always_open", "slot_count", "updated_at"]
    search_fields = ["name"]
    inlines = [CalendarSlotInline, CalendarOverrideInline]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description=_("opening slots"))
    def slot_count(self, obj: Calendar) -> int:
        return obj.slots.count()

    def save_related(self, request: HttpRequest, form: forms.Form, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        form.instance.save(update_fields=["updated_at"])  # slots changed: cached schedules must not match
        sla_config_changed(calendar_id=form.instance.pk)

    def delete_model(self, request: HttpRequest, obj: Calendar) -> None:
        super().delete_model(request, obj)
        sla_config_changed(deleted=True)


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = [
            "name",
            "position",
            "is_active",
            "priorities",
            "tiers",
            "channels",
            "categories",
            "shops",
            "first_response_minutes",
            "next_response_minutes",
            "resolution_minutes",
            "calendar",
            "warn_percentages",
            "warn_minutes_before",
            "escalate_notify_supervisors",
            "escalate_raise_priority",
            "escalate_queue",
            "escalate_assignee",
        ]
        widgets = {
            "priorities": forms.TextInput(attrs={"placeholder": "urgent,high"}),
            "tiers": forms.TextInput(attrs={"placeholder": "vip"}),
            "channels": forms.TextInput(attrs={"placeholder": "chat,web"}),
        }


@admin.register(SlaPolicy)
class SlaPolicyAdmin(NotFoundAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    form = SlaPolicyForm
    list_display = [
        "name",
        "position",
        "is_active",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "calendar",
    ]
    list_editable = ["position", "is_active"]
    list_select_related = ["calendar"]
    filter_horizontal = ["categories", "shops"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "position", "is_active"]}),
        (_("Applies to (empty = any)"), {"fields": ["priorities", "tiers", "channels", "categories", "shops"]}),
        (_("Targets"), {"fields": ["first_response_minutes", "next_response_minutes", "resolution_minutes"]}),
        (_("Clock"), {"fields": ["calendar", "warn_percentages", "warn_minutes_before"]}),
        (
            _("On breach"),
            {
                "fields": [
                    "escalate_notify_supervisors",
                    "escalate_raise_priority",
                    "escalate_queue",
                    "escalate_assignee",
                ]
            },
        ),
        (None, {"fields": ["created_at", "updated_at"]}),
    ]

    def save_related(self, request: HttpRequest, form: forms.Form, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        sla_config_changed(policy_id=form.instance.pk)

    def delete_model(self, request: HttpRequest, obj: SlaPolicy) -> None:
        super().delete_model(request, obj)
        sla_config_changed(deleted=True)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        sla_config_changed(deleted=True)


class JsonListField(forms.JSONField):
    """Pretty-printed JSON in a monospace textarea."""

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2)


class RuleForm(forms.ModelForm):
    conditions = JsonListField(
        label=_("conditions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "style": "font-family:monospace;width:60em"}),
        help_text=_(
            'JSON list, e.g. [{"field": "text", "op": "contains_any", "value": ["没收到", "not received"]}]. '
            "Fields: text, subject (contains_any, contains_all, not_contains, regex); channel, tier, category, "
            "shop, priority, payment_status, delivery_status, intent, language (in, not_in); order_amount, "
            "sentiment (gt, gte, lt, lte); business_hours, has_order, has_category (is true/false)."
        ),
    )
    actions = JsonListField(
        label=_("actions"),
        widget=forms.Textarea(attrs={"rows": 6, "style": "font-family:monospace;width:60em"}),
        help_text=_(
            'JSON list, e.g. [{"type": "add_tags", "value": ["payment"]}]. Types: add_tags, set_category, '
            "suggest_category (only when none), set_priority, set_queue (slug), assign (username or auto), "
            "notify (supervisors, assignee, queue), canned_reply (shortcut)."
        ),
    )

    class Meta:
        model = Rule
        fields = [
            "name",
            "description",
            "position",
            "is_active",
            "triggers",
            "match_all",
            "conditions",
            "actions",
            "stop_processing",
            "shop",
        ]
        widgets = {"triggers": forms.TextInput(attrs={"placeholder": "created,customer_message"})}


@admin.register(Rule)
class RuleAdmin(NotFoundAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    form = RuleForm
    list_display = ["name", "position", "is_active", "is_builtin", "triggers_display", "runs", "preview_link"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", "is_builtin"]
    search_fields = ["name", "description"]
    readonly_fields = ["is_builtin", "created_at", "updated_at", "recent_runs"]

    def get_queryset(self, request: HttpRequest):
        from django.db.models import Count

        return super().get_queryset(request).annotate(run_count=Count("executions"))

    @admin.display(description=_("runs on"))
    def triggers_display(self, obj: Rule) -> str:
        return ", ".join(obj.triggers)

    @admin.display(description=_("times applied"), ordering="run_count")
    def runs(self, obj: Rule) -> int:
        return obj.run_count

    @admin.display(description=_("dry run"))
    def preview_link(self, obj: Rule) -> str:
        url = reverse("admin:tickets_rule_preview", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Which open tickets match?"))

    @admin.display(description=_("last 20 runs"))
    def recent_runs(self, obj: Rule) -> str:
        rows = obj.executions.select_related("ticket").order_by("-id")[:20]
        if not rows:
            return "—"
        return format_html(
            "<table>{}</table>",
            format_html(
                "".join(
                    format_html(
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                        r.created_at.strftime("%Y-%m-%d %H:%M"),
                        r.ticket.reference,
                        r.trigger,
                        json.dumps(r.applied, ensure_ascii=False)[:200],
                    )
                    for r in rows
                )
            ),
        )

    def get_urls(self):
        return [
            path("<int:rule_id>/preview/", self.admin_site.admin_view(self.preview_view), name="tickets_rule_preview"),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest, rule_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        rule = get_object_or_404(self.get_queryset(request), pk=rule_id)
        matched, scanned = rule_preview(rule)
        context_data = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "rule": rule,
            "matched": matched,
            "scanned": scanned,
            "title": _("Dry run: %(rule)s") % {"rule": rule.name},
        }
        return TemplateResponse(request, "admin/tickets/rule/preview.html", context_data)


@admin.register(RuleExecution)
class RuleExecutionAdmin(NotFoundAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "rule", "ticket", "trigger", "seq"]
    list_filter = ["trigger", "rule"]
    list_select_related = ["rule", "ticket"]
    search_fields = ["ticket__reference", "rule__name"]


@admin.register(SlaEvent)
class SlaEventAdmin(NotFoundAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "ticket", "kind", "metric", "threshold", "due_at", "policy"]
    list_filter = ["kind", "metric"]
    list_select_related = ["ticket", "policy"]
    search_fields = ["ticket__reference"]


@admin.register(ClassifierModel)
class ClassifierModelAdmin(NotFoundAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "is_active", "sample_count", "accuracy"]
    readonly_fields = ["created_at", "sample_count", "labels", "metrics", "is_active"]
    actions = ["retrain"]

    @admin.display(description=_("held-out accuracy"))
    def accuracy(self, obj: ClassifierModel) -> str:
        value = (obj.metrics or {}).get("accuracy")
        return f"{value:.1%}" if isinstance(value, float) else "—"

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).defer("data")

    @admin.action(description=_("Retrain now (in the background)"))
    def retrain(self, request: HttpRequest, queryset) -> None:
        from tickets.tasks import classifier_retrain

        with context.bound(actor_label=f"admin:{request.user.get_username()}"):
            classifier_retrain.delay()
        messages.info(request, _("Retraining started; the new model appears here in a few seconds."))
