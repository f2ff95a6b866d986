"""The search-outcome beacon: clients report what came of the searches they were shown.

Contract (URL name `help:search-outcome`, path `/help/search/outcome/`, the trailing slash optional):

    POST, body JSON (any Content-Type, so `navigator.sendBeacon(url, JSON.stringify(...))` works)
    or form-encoded (`log_ids` repeated or comma-separated):
        {"log_ids": [<id or token>, ...],  1–20 items, each either
                                             - an integer `log_id` (GET /api/v1/kb/suggest, or the ids kb.js
                                               keeps in sessionStorage "carddesk.kb.logIds"): the request
                                               must pass Django's CSRF check (X-CSRFToken header or
                                               csrfmiddlewaretoken field) and only searches made by the
                                               same browser (session, or address + user agent) count;
                                             - a string `log_token` (the suggest API's signed token, or `s`
                                               on help-centre result links): no CSRF needed, the signature
                                               is the authority; valid for 24 hours
         "outcome": "ticket" | "deflected" | "click",
         "article": <article id>}           required for "click"; optional for "deflected"
    200 {"updated": <logs changed>, "ignored": <ids not the caller's / tokens forged, malformed or expired>}
    400 {"errors": {"<field>": ["message"]}} when the body is malformed
    403 {"errors": {"csrf": [...]}} when integer ids come without a valid CSRF token; 405 unless POST.

    ticket     a ticket was filed after these searches: led_to_ticket = true (wins over deflected)
    deflected  the customer left satisfied without filing one: deflected = true unless led_to_ticket;
               with "article", that article is also recorded as the one that answered (as a click)
    click      the customer opened "article" from these searches: clicked_article, and the article's
               learned ranking boost for the query (once per session, query and article)

Idempotent: repeating a report changes nothing. A missing id and another browser's id are both just counted
in "ignored": the answer never tells whether a search exists.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from helpdesk.shops import help_shop_for
from knowledge import selectors, services, tracking
from knowledge.models import Article
from knowledge.services import Outcome

MAX_ITEMS = 20


def _payload(request: HttpRequest) -> dict[str, Any] | None:
    body = request.body.strip()
    if body[:1] == b"{":
        try:
            data = json.loads(body)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    items: list[Any] = []
    for value in request.POST.getlist("log_ids"):
        items.extend(part.strip() for part in value.split(",") if part.strip())
    return {"log_ids": items, "outcome": request.POST.get("outcome"), "article": request.POST.get("article") or None}


def _bad(field: str, message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"errors": {field: [message]}}, status=status)


def _split(items: list[Any]) -> tuple[list[int], list[str]] | None:
    """Integer ids and string tokens (a string of digits counts as an id); None when an item is neither."""
    ids, tokens = [], []
    for item in items:
        if isinstance(item, bool):
            return None
        if isinstance(item, int) or (isinstance(item, str) and item.isdigit() and len(item) < 19):
            ids.append(int(item))
        elif isinstance(item, str) and item:
            tokens.append(item)
        else:
            return None
    return ids, tokens


def _csrf_ok(request: HttpRequest) -> bool:
    return CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {}) is None


@csrf_exempt  # checked below, only for integer ids: signed tokens carry their own authority
@require_POST
def search_outcome(request: HttpRequest) -> JsonResponse:
    data = _payload(request)
    if data is None:
        return _bad("non_field_errors", "The body is not a JSON object.")
    items = data.get("log_ids")
    split = _split(items) if isinstance(items, list) and items else None
    if split is None:
        return _bad("log_ids", "A non-empty list of log ids or tokens is required.")
    if len(items) > MAX_ITEMS:
        return _bad("log_ids", f"At most {MAX_ITEMS} items.")
    outcome = data.get("outcome")
    if outcome not in Outcome.ALL:
        return _bad("outcome", "One of: ticket, deflected, click.")
    article = None
    if outcome == Outcome.CLICK or (outcome == Outcome.DEFLECTED and data.get("article") not in (None, "")):
        try:
            article = selectors.article_get_visible(int(data.get("article")), shop=help_shop_for(request))
        except (TypeError, ValueError, Article.DoesNotExist):
            return _bad("article", "A visible article id is required.")
    ids, tokens = split
    if ids and not _csrf_ok(request):
        return _bad("csrf", "Integer log ids need a CSRF token; signed tokens do not.", status=403)
    trusted = {log_id for log_id in map(tracking.log_id_from_token, tokens) if log_id is not None}
    if ids:
        owners = {tracking.session_key_hash(request), tracking.client_hash(request)}
        trusted |= selectors.search_logs_owned(ids, session_key_hashes=owners)
    updated = services.search_outcome_record(log_ids=sorted(trusted), outcome=outcome, article=article)
    return JsonResponse({"updated": updated, "ignored": len(items) - len(trusted)})
