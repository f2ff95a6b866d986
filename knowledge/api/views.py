"""Knowledge-base API: suggestions as the customer types (contact form, chat widget, help-centre search box).

    GET /api/v1/kb/suggest?q=<text>[&lang=zh-hans|en][&shop=<slug>][&limit=1..10]

    200 {"query": "卡密无效", "lang": "zh-hans", "results_lang": "zh-hans",
         "results": [{"id", "title", "snippet", "snippet_html", "url", "language", "category"}, …],
         "did_you_mean": "recharge failed" | null,  only when nothing was found
         "log_id": 123 | null,                      null for an empty query; report outcomes with it
         "log_token": "<signed>" | null}            or with this — see knowledge.views.beacon
    400 {"<field>": ["message"]}                    unknown lang or shop, q longer than 1000, …
    429 when one address asks more than the `kb_suggest` rate (default 120/minute; settable in
        REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["kb_suggest"]).

`q` is cut to its first 200 characters. `lang` (zh-hans or en; zh-CN, en-US… are read as such) defaults to
the request's language; `shop` (blank = absent) to the help centre's shop remembered in the session, else the
first active shop (global articles only when there is none). Results are cached in Redis for
KB_SUGGEST_CACHE_SECONDS (default 10). Every request is logged — a session's keystrokes collapse into one
search log — and gets that log's id. Anonymous; a Redis outage turns caching and throttling off rather than
failing the request.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from helpdesk.models import Shop
from helpdesk.shops import SESSION_KEY as SHOP_SESSION_KEY
from knowledge import search, selectors, services, tracking
from knowledge.api.serializers import SuggestHitOutput, SuggestInput
from knowledge.models import SearchSource, content_language
from knowledge.text import normalise_query

logger = logging.getLogger(__name__)
CACHE_VERSION = 1


class SuggestThrottle(AnonRateThrottle):
    """Per client address; authenticated users (agents trying the widget) are not throttled."""

    scope = "kb_suggest"
    default_rate = "120/minute"  # a customer typing with a 250 ms debounce sends a few per query

    def get_rate(self) -> str:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or self.default_rate

    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as error:
            logger.warning("kb suggest throttle off, cache unavailable: %s", error)
            return True


def _cache_seconds() -> int:
    return int(getattr(settings, "KB_SUGGEST_CACHE_SECONDS", 10))


def _suggestions(query: str, normalised: str, language: str, shop: Shop | None, limit: int) -> dict[str, Any]:
    digest = hashlib.sha256(normalised.encode()).hexdigest()[:32]
    key = f"kb:suggest:{CACHE_VERSION}:{language}:{shop.pk if shop else 0}:{limit}:{digest}"
    try:
        cached = cache.get(key)
    except (RedisError, OSError) as error:
        logger.warning("kb suggest cache unavailable: %s", error)
        cached, key = None, None
    if cached is not None:
        return cached
    results = selectors.kb_search(query, language=language, shop=shop, limit=limit, prefix=True, spelling=False)
    payload = {
        "results": [dict(item) for item in SuggestHitOutput([hit.as_dict() for hit in results.hits], many=True).data],
        "results_lang": results.results_language,
        "total": results.total,
        "did_you_mean": None if results.hits else search.did_you_mean(query),
    }
    if key is not None:
        try:
            cache.set(key, payload, timeout=_cache_seconds())
        except (RedisError, OSError) as error:
            logger.warning("kb suggest cache unavailable: %s", error)
    return payload


def _shop(request: Request, slug: str | None) -> Shop | None:
    """The named shop, else the help centre's (remembered in the session), else the first active one.

    Unlike help_shop_for it never writes the session: clients without a cookie must not create one per call.
    """
    shops = Shop.objects.filter(is_active=True)
    if slug:
        shop = shops.filter(slug=slug).first()
        if shop is None:
            raise ValidationError({"shop": ["No such shop."]})
        return shop
    session = getattr(request._request, "session", None)
    remembered = session.get(SHOP_SESSION_KEY) if session is not None and session.session_key else None
    return (shops.filter(pk=remembered).first() if remembered else None) or shops.order_by("id").first()


class SuggestApi(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [SuggestThrottle]

    def get(self, request: Request) -> Response:
        data = SuggestInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        language = content_language(values.get("lang") or getattr(request, "LANGUAGE_CODE", None))
        shop = _shop(request, values.get("shop"))
        query = values["q"]
        normalised = normalise_query(query)
        body: dict[str, Any] = {"query": query, "lang": language}
        if not normalised:
            empty = {"results_lang": language, "results": [], "did_you_mean": None, "log_id": None, "log_token": None}
            return Response({**body, **empty})
        payload = _suggestions(query, normalised, language, shop, values["limit"])
        if request.user.is_authenticated and request.user.is_staff:
            # Agents looking up a link for a reply are not customer demand: keep them out of the search log.
            return Response({**body, **{k: payload[k] for k in ("results_lang", "results", "did_you_mean")},
                             "log_id": None, "log_token": None})  # fmt: skip
        log = services.search_log_record(
            query=query,
            language=language,
            result_count=payload["total"],
            source=SearchSource.SUGGEST,
            session_key_hash=tracking.session_key_hash(request._request),
            shop=shop,
        )
        return Response(
            {
                **body,
                "results_lang": payload["results_lang"],
                "results": payload["results"],
                "did_you_mean": payload["did_you_mean"],
                "log_id": log.pk,
                "log_token": tracking.log_token(log.pk),
            }
        )
