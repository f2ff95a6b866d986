"""The page that shows revealed card keys: rendered straight into the response, never stored.

Django's messages would park the plain keys in a cookie or the session table until displayed, so the
revealed keys are the body of a no-store response instead; only the requesting user ever receives them.
The reveal itself (permission check + audit event) is `tickets.services.order_secrets_reveal`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext_lazy as _

# One action reveals at most this many orders: the page is for looking up a case, not for exporting keys.
REVEAL_LIMIT = 20


@dataclass(frozen=True)
class RevealedKeys:
    ticket_reference: str
    order_no: str
    keys: list[str]


def reveal_response(request: HttpRequest, model_admin: admin.ModelAdmin, rows: list[RevealedKeys]) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Revealed card keys"),
        "opts": model_admin.opts,
        "rows": rows,
    }
    response = TemplateResponse(request, "admin/tickets/reveal_card_keys.html", context)
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True)
    return response
