"""Admin forms. They check shape only; the services called on save enforce the rules (STYLE.md habit 2)."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from helpdesk.roles import GROUP_NAMES, Role
from tickets.errors import TicketError
from tickets.models import AgentProfile, Category, Customer, Queue, Ticket


def desk_users() -> QuerySet:
    """Accounts that may be assignees: active agents (with a profile) and supervisors."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(agent_profile__isnull=False) | Q(groups__name=GROUP_NAMES[Role.SUPERVISOR]) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


class ServiceModelForm(forms.ModelForm):
    """Shows the message of a service that refused the previous save (see ServiceFormAdminMixin)."""

    service_rejection: TicketError | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        rejection = self.service_rejection
        if rejection is not None:
            field = rejection.field if rejection.field in self.fields else None
            self.add_error(field, rejection.message)
        return cleaned


class TicketAdminForm(ServiceModelForm):
    class Meta:
        model = Ticket
        fields = ["subject", "status", "priority", "queue", "assignee", "category", "tags"]


class CustomerAdminForm(ServiceModelForm):
    new_phone = forms.CharField(
        label=_("new phone"),
        required=False,
        max_length=32,
        strip=True,
        help_text=_("Leave blank to keep the current number. The stored number is never shown."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    class Meta:
        model = Customer
        fields = ["name", "tier", "language"]

    def clean_new_phone(self) -> str:
        phone = self.cleaned_data["new_phone"]
        digits = "".join(ch for ch in phone if ch.isdigit())
        if phone and not 5 <= len(digits) <= 15:
            raise forms.ValidationError(_("Enter a phone number of 5 to 15 digits."))
        return phone


class AssignToForm(forms.Form):
    """The "assign to…" action's intermediate page."""

    assignee = forms.ModelChoiceField(queryset=get_user_model().objects.none(), label=_("assignee"))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = desk_users()


class QueueAdminForm(forms.ModelForm):
    class Meta:
        model = Queue
        fields = [
            "name",
            "slug",
            "shop",
            "skills",
            "overflow_queue",
            "overflow_threshold",
            "overflow_wait_minutes",
            "is_vip",
            "auto_assign",
            "calendar",
            "sla_policy",
            "is_active",
        ]

    def clean_overflow_queue(self) -> Queue | None:
        overflow = self.cleaned_data.get("overflow_queue")
        if overflow is not None and self.instance.pk is not None and overflow.pk == self.instance.pk:
            raise forms.ValidationError(_("A queue cannot overflow into itself."))
        return overflow


class CategoryAdminForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "name_en", "slug", "parent", "default_queue", "is_active"]

    def clean_parent(self) -> Category | None:
        parent = self.cleaned_data.get("parent")
        if parent is None:
            return None
        if self.instance.pk is not None and parent.pk == self.instance.pk:
            raise forms.ValidationError(_("A category cannot be its own parent."))
        if parent.parent_id is not None:
            raise forms.ValidationError(_("Categories nest one level only: choose a top-level parent."))
        if self.instance.pk is not None and self.instance.children.exists():
            raise forms.ValidationError(_("This category has sub-categories, so it cannot get a parent."))
        return parent


class AgentProfileAdminForm(forms.ModelForm):
    class Meta:
        model = AgentProfile
        fields = ["user", "display_name", "skills", "max_concurrent_chats", "max_open_tickets", "time_zone", "language"]

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"]
        if name not in zoneinfo.available_timezones():
            raise forms.ValidationError(_("Unknown time zone (use an IANA name such as Asia/Shanghai)."))
        return name
