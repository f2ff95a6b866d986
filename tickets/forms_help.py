"""Help-centre forms: they validate shape, name the field in every message, and keep what was typed.

Rules (the order belongs to the shop, the ticket may still be answered, the rating window) live in the
services; the views put a service's refusal on the field it names.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Shop
from tickets.errors import InvalidInput
from tickets.models import Category
from tickets.selectors.help_centre import order_find
from tickets.services.content import MAX_BODY_CHARS, check_upload

MAX_FILES = 5
MAX_LOG_REFS = 20  # the outcome endpoint takes at most 20
_LOG_REF = re.compile(r"^[A-Za-z0-9:_-]{1,100}$")
HONEYPOT_FIELD = "website"


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by content.check_upload (type, signature, size)."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        uploads = [d for d in (data if isinstance(data, list | tuple) else [data]) if d]
        if len(uploads) > MAX_FILES:
            raise forms.ValidationError(
                _("Attachments: at most %(count)s files at a time.") % {"count": MAX_FILES}, code="too_many"
            )
        cleaned = []
        for upload in uploads:
            upload = super().clean(upload, initial)
            try:
                check_upload(upload)
            except InvalidInput as error:
                raise forms.ValidationError(
                    _("Attachments: %(error)s") % {"error": error.message}, code="bad_file"
                ) from None
            cleaned.append(upload)
        return cleaned


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        name = obj.name_en if translation.get_language() == "en" and obj.name_en else obj.name
        return name


class AccessibleFormMixin:
    """Focus on the first field with an error.

    Django (5.2) already marks fields with errors aria-invalid and points aria-describedby at
    "<id>_helptext" and "<id>_error"; the templates give the hint and the error those ids.
    """

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        focused = False
        for name, form_field in self.fields.items():
            form_field.widget.attrs.pop("autofocus", None)
            if not focused and name in self._errors and not form_field.widget.is_hidden:
                form_field.widget.attrs["autofocus"] = True
                focused = True

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(field id or "", field label, message) for the summary at the top of the form."""
        rows = [("", "", str(message)) for message in self.non_field_errors()]
        for name, field in self.fields.items():
            for message in self.errors.get(name, []):
                rows.append((self[name].id_for_label, str(field.label or name), str(message)))
        return rows


class ContactForm(AccessibleFormMixin, forms.Form):
    subject = forms.CharField(
        label=_("Subject"),
        max_length=200,
        error_messages={
            "required": _("Please enter a subject."),
            "max_length": _("The subject can be at most %(limit_value)d characters (it has %(show_value)d)."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    description = forms.CharField(
        label=_("Describe the problem"),
        max_length=MAX_BODY_CHARS,
        help_text=_("What happened, what you expected, and any error message. Card keys are masked for you."),
        error_messages={
            "required": _("Please describe the problem."),
            "max_length": _("The description can be at most %(limit_value)d characters (it has %(show_value)d)."),
        },
        widget=forms.Textarea(attrs={"rows": 7}),
    )
    email = forms.EmailField(
        label=_("Your e-mail"),
        max_length=254,
        help_text=_("We send the answer and your tracking link here."),
        error_messages={
            "required": _("Please enter your e-mail address."),
            "invalid": _("Enter a valid e-mail address, such as name@example.com."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    name = forms.CharField(
        label=_("Your name"),
        required=False,
        max_length=120,
        error_messages={"max_length": _("Your name can be at most %(limit_value)d characters.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    order_no = forms.CharField(
        label=_("Order number"),
        required=False,
        max_length=64,
        help_text=_("Found on your order page or payment receipt. It shows us your order straight away."),
        error_messages={"max_length": _("An order number is at most %(limit_value)d characters.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    category = CategoryChoiceField(
        queryset=Category.objects.filter(is_active=True).order_by("name"),
        label=_("Category"),
        required=False,
        empty_label=_("Choose if you know"),
        error_messages={"invalid_choice": _("Choose one of the listed categories.")},
    )
    attachments = MultipleFileField(
        label=_("Attachments"),
        help_text=format_lazy(_("Screenshots, PDFs, text logs or ZIP files; up to {count} files."), count=MAX_FILES),
    )
    # Hidden from people (CSS + aria-hidden + tabindex) but tempting to bots: filled means spam.
    website = forms.CharField(required=False, label=_("Leave this field empty"))
    submission_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    # The knowledge base's search-log references shown while typing (ids or signed tokens), reported as
    # "led to a ticket" by the confirmation page.
    kb_log_ids = forms.CharField(required=False, max_length=3000, widget=forms.HiddenInput)

    def __init__(self, *args: Any, shop: Shop | None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.shop = shop
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})
        if not self.is_bound and not self.initial.get("submission_id"):
            self.initial["submission_id"] = uuid.uuid4().hex

    def clean_order_no(self) -> str:
        order_no = (self.cleaned_data.get("order_no") or "").strip()
        if order_no and self.shop is not None and order_find(shop=self.shop, order_no=order_no) is None:
            raise forms.ValidationError(
                _("We could not find this order number in %(shop)s. Check it on your order page, or leave it empty.")
                % {"shop": self.shop.name},
                code="unknown_order",
            )
        return order_no

    def clean_kb_log_ids(self) -> list[str]:
        raw = self.cleaned_data.get("kb_log_ids") or ""
        items = [part.strip() for part in raw.split(",") if _LOG_REF.match(part.strip())]
        return items[-MAX_LOG_REFS:]

    @property
    def is_spam(self) -> bool:
        return bool((self.data.get(HONEYPOT_FIELD) or "").strip())


class ReplyForm(AccessibleFormMixin, forms.Form):
    body = forms.CharField(
        label=_("Your reply"),
        max_length=MAX_BODY_CHARS,
        error_messages={
            "required": _("Please write a reply."),
            "max_length": _("The reply can be at most %(limit_value)d characters (it has %(show_value)d)."),
        },
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    attachments = MultipleFileField(label=_("Attachments"))
    client_msg_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("client_msg_id"):
            self.initial["client_msg_id"] = uuid.uuid4().hex


SCORE_CHOICES = [
    (5, _("5 — Very satisfied")),
    (4, _("4 — Satisfied")),
    (3, _("3 — Neutral")),
    (2, _("2 — Dissatisfied")),
    (1, _("1 — Very dissatisfied")),
]


class RateForm(AccessibleFormMixin, forms.Form):
    score = forms.TypedChoiceField(
        label=_("How satisfied are you with our help?"),
        choices=SCORE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a score from 1 to 5."),
            "invalid_choice": _("Choose a score from 1 to 5."),
        },
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        help_text=_("What went well, and what could we do better?"),
        error_messages={"max_length": _("The comment can be at most %(limit_value)d characters.")},
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class LinkRequestForm(AccessibleFormMixin, forms.Form):
    email = forms.EmailField(
        label=_("Your e-mail"),
        max_length=254,
        error_messages={
            "required": _("Please enter your e-mail address."),
            "invalid": _("Enter a valid e-mail address, such as name@example.com."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    reference = forms.CharField(
        label=_("Ticket reference"),
        max_length=20,
        help_text=_("Like T-000123, from your confirmation e-mail."),
        error_messages={"required": _("Please enter the ticket reference.")},
    )

    def clean_reference(self) -> str:
        return (self.cleaned_data.get("reference") or "").strip().upper()
