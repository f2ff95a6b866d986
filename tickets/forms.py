"""Console forms: they validate shape and name the field; services enforce the rules."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from tickets.models import Category, Channel, Priority, Queue, Status
from tickets.selectors.inbox import SORTS, InboxFilters


class InboxFilterForm(forms.Form):
    view = forms.CharField(required=False)
    status = forms.MultipleChoiceField(choices=Status.choices, required=False, label=_("Status"))
    priority = forms.MultipleChoiceField(choices=Priority.choices, required=False, label=_("Priority"))
    channel = forms.MultipleChoiceField(choices=Channel.choices, required=False, label=_("Channel"))
    category = forms.ModelChoiceField(
        Category.objects.filter(is_active=True).select_related("parent"), required=False, label=_("Category")
    )
    queue = forms.ModelChoiceField(Queue.objects.filter(is_active=True), required=False, label=_("Queue"))
    assignee = forms.IntegerField(required=False, min_value=0, label=_("Assignee"))
    tag = forms.CharField(required=False, max_length=50, label=_("Tag"))
    date_from = forms.DateField(required=False, label=_("Created from"))
    date_to = forms.DateField(required=False, label=_("Created to"))
    q = forms.CharField(required=False, max_length=100, label=_("Search"))
    sort = forms.ChoiceField(
        choices=[
            ("-updated", _("Latest activity")),
            ("updated", _("Oldest activity")),
            ("-created", _("Newest")),
            ("created", _("Oldest")),
        ],
        required=False,
        label=_("Sort"),
    )
    cursor = forms.CharField(required=False, max_length=200)

    def to_filters(self) -> InboxFilters:
        data = self.cleaned_data
        return InboxFilters(
            view=data.get("view") or "mine",
            status=data.get("status") or [],
            priority=data.get("priority") or [],
            channel=data.get("channel") or [],
            category=data["category"].pk if data.get("category") else None,
            queue=data["queue"].pk if data.get("queue") else None,
            assignee=data.get("assignee"),
            tag=(data.get("tag") or "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            q=(data.get("q") or "").strip(),
            sort=data.get("sort") if data.get("sort") in SORTS else "-updated",
        )


class ReplyForm(forms.Form):
    KIND_CHOICES = [("reply", _("Public reply")), ("note", _("Internal note"))]
    kind = forms.ChoiceField(choices=KIND_CHOICES, initial="reply", widget=forms.RadioSelect)
    body = forms.CharField(label=_("Message"), max_length=20000, widget=forms.Textarea(attrs={"rows": 5}))
    attachments = forms.FileField(required=False, label=_("Attachments"))
    then_status = forms.ChoiceField(
        choices=[("", _("Keep status")), *[(value, label) for value, label in Status.choices if value != Status.NEW]],
        required=False,
        label=_("Then set status"),
    )
    client_msg_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    seen_seq = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    canned_reply = forms.IntegerField(required=False, widget=forms.HiddenInput)


class TicketFieldsForm(forms.Form):
    """The side panel: status, priority, category, queue, assignee, tags; `version` detects stale forms."""

    status = forms.ChoiceField(choices=Status.choices, label=_("Status"))
    priority = forms.ChoiceField(choices=Priority.choices, label=_("Priority"))
    category = forms.ModelChoiceField(
        Category.objects.filter(is_active=True).select_related("parent"), required=False, label=_("Category")
    )
    queue = forms.ModelChoiceField(Queue.objects.filter(is_active=True), required=False, label=_("Queue"))
    assignee = forms.ModelChoiceField(
        get_user_model().objects.filter(is_active=True, agent_profile__isnull=False).order_by("username"),
        required=False,
        label=_("Assignee"),
    )
    tags = forms.CharField(required=False, max_length=500, label=_("Tags"), help_text=_("Comma-separated"))
    version = forms.CharField(widget=forms.HiddenInput)

    def clean_tags(self) -> list[str]:
        raw = self.cleaned_data.get("tags") or ""
        tags = [t.strip() for t in raw.replace("，", ",").split(",") if t.strip()]
        if any(len(t) > 50 for t in tags):
            raise forms.ValidationError(_("Each tag is at most 50 characters."))
        return tags


class MergeForm(forms.Form):
    target = forms.CharField(label=_("Merge into ticket"), max_length=20, help_text=_("Reference, e.g. T-000123"))


class BulkActionForm(forms.Form):
    ACTIONS = [
        ("assign_me", _("Assign to me")),
        ("assign", _("Assign to")),
        ("status", _("Set status")),
        ("tag", _("Add tag")),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    tickets = forms.TypedMultipleChoiceField(
        coerce=int, choices=[], error_messages={"required": _("Select tickets first.")}
    )
    assignee = forms.ModelChoiceField(
        get_user_model().objects.filter(is_active=True, agent_profile__isnull=False), required=False
    )
    status = forms.ChoiceField(choices=[("", "—"), *Status.choices], required=False)
    tag = forms.CharField(required=False, max_length=50)

    def __init__(self, *args, ticket_ids: list[int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Any integer id is accepted here; visibility is checked per ticket by the selector.
        self.fields["tickets"].valid_value = lambda value: True

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "assign" and not data.get("assignee"):
            self.add_error("assignee", _("Choose an agent."))
        if action == "status" and not data.get("status"):
            self.add_error("status", _("Choose a status."))
        if action == "tag" and not (data.get("tag") or "").strip():
            self.add_error("tag", _("Type a tag."))
        return data


class SavedViewForm(forms.Form):
    name = forms.CharField(max_length=80, label=_("View name"))
    query = forms.CharField(max_length=1000, required=False, widget=forms.HiddenInput)
    shared = forms.BooleanField(required=False, label=_("Share with all agents"))
