"""Help-centre knowledge-base pages: home, category, article (with its vote), search results.

Thin: the shop comes from `help_shop_for`, the content language from the page's language, reads from
`knowledge.selectors`, writes (views, votes, search logs, clicks) through `knowledge.services`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from helpdesk.shops import help_shop_for
from knowledge import selectors, services, tracking
from knowledge.models import Article, KbCategory, SearchSource, content_language
from tickets.errors import InvalidInput

SEARCH_LIMIT = 20


def _language(request: HttpRequest) -> str:
    return content_language(getattr(request, "LANGUAGE_CODE", None))


def suggest_url() -> str | None:
    """The suggest endpoint, when the API is routed (the project's urls.py includes knowledge.api.urls)."""
    try:
        return reverse("kb_api:suggest")
    except NoReverseMatch:
        return None


def _page_context(request: HttpRequest, **extra: object) -> dict[str, object]:
    shop = help_shop_for(request)
    return {
        "kb_language": _language(request),
        "kb_suggest_url": suggest_url(),
        "kb_outcome_url": reverse("help:search-outcome"),
        "kb_shop_slug": shop.slug if shop else "",
        **extra,
    }


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    shop, language = help_shop_for(request), _language(request)
    context = _page_context(
        request,
        categories=selectors.category_tree(language=language, shop=shop),
        popular=selectors.popular_articles(language=language, shop=shop),
    )
    return render(request, "help/home.html", context)


@require_GET
def category(request: HttpRequest, slug: str) -> HttpResponse:
    shop, language = help_shop_for(request), _language(request)
    try:
        found = selectors.category_get(slug)
    except KbCategory.DoesNotExist:
        raise Http404 from None
    children = selectors.category_children(found) if found.parent_id is None else []
    articles = selectors.category_articles(found, language=language, shop=shop, children=children)
    by_category: dict[int, list[Article]] = {}
    for article in articles:
        by_category.setdefault(article.category_id, []).append(article)
    sections = [(child, by_category.get(child.pk, [])) for child in children]
    context = _page_context(
        request,
        category=found,
        articles=by_category.get(found.pk, []),
        sections=[(child, items) for child, items in sections if items],
        empty=not articles,
    )
    return render(request, "help/category.html", context)


def _visible_or_404(request: HttpRequest, pk: int) -> Article:
    try:
        return selectors.article_get_visible(pk, shop=help_shop_for(request))
    except Article.DoesNotExist:
        raise Http404 from None


@require_GET
def article(request: HttpRequest, pk: int, slug: str | None = None) -> HttpResponse:
    shop = help_shop_for(request)
    found = _visible_or_404(request, pk)
    token = request.GET.get("s", "")
    log_id = tracking.log_id_from_token(token)
    if log_id is not None:
        services.search_click_record(log_id=log_id, article=found)
    services.article_view_record(article_id=found.pk)
    session_key = request.session.session_key if hasattr(request, "session") else None
    voted = (
        selectors.feedback_given(found, session_key_hash=tracking.session_key_hash(request)) if session_key else None
    )
    context = _page_context(
        request,
        article=found,
        related=selectors.related_articles(found, shop=shop),
        translations=selectors.article_translations(found, shop=shop),
        voted=voted,
        search_token=token if log_id is not None else "",
        canonical_url=request.build_absolute_uri(found.get_absolute_url()),
    )
    return render(request, "help/article.html", context)


class VoteForm(forms.Form):
    helpful = forms.ChoiceField(choices=[("yes", "yes"), ("no", "no")])
    comment = forms.CharField(required=False, max_length=2000)
    s = forms.CharField(required=False, max_length=100)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
def article_vote(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Was this helpful?" (POST helpful=yes|no, optional comment and search token `s`; CSRF-protected).

    Answers JSON to `Accept: application/json` (kb.js), else redirects back to the article.
    """
    found = _visible_or_404(request, pk)
    form = VoteForm(request.POST)
    back = found.get_absolute_url() + "#feedback"
    if not form.is_valid():
        if _wants_json(request):
            return JsonResponse({"errors": form.errors}, status=400)
        messages.error(request, _("Please choose yes or no."))
        return HttpResponseRedirect(back)
    data = form.cleaned_data
    try:
        result = services.feedback_record(
            article=found,
            helpful=data["helpful"] == "yes",
            comment=data["comment"],
            session_key_hash=tracking.session_key_hash(request, create=True),
            search_log_id=tracking.log_id_from_token(data["s"]),
        )
    except InvalidInput as error:
        if _wants_json(request):
            return JsonResponse({"errors": {error.field or "helpful": [error.message]}}, status=400)
        messages.error(request, error.message)
        return HttpResponseRedirect(back)
    if _wants_json(request):
        return JsonResponse(
            {"recorded": result.created, "helpful": result.feedback.helpful, "commented": bool(result.feedback.comment)}
        )
    if result.created or data["comment"]:
        messages.success(request, _("Thank you for your feedback."))
    else:
        messages.info(request, _("You have already rated this article."))
    return HttpResponseRedirect(back)


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    shop, language = help_shop_for(request), _language(request)
    query = request.GET.get("q", "").strip()[:200]
    results = None
    token, log_id = "", None
    if query:
        results = selectors.kb_search(query, language=language, shop=shop, limit=SEARCH_LIMIT)
        if results.normalised_query:
            log = services.search_log_record(
                query=query,
                language=language,
                result_count=results.total,
                source=SearchSource.PAGE,
                session_key_hash=tracking.session_key_hash(request, create=True),
                shop=shop,
            )
            token, log_id = tracking.log_token(log.pk), log.pk
    hits = []
    if results is not None:
        suffix = "?" + urlencode({"s": token}) if token else ""
        hits = [(hit, hit.url + suffix) for hit in results.hits]
    context = _page_context(
        request,
        query=query,
        results=results,
        hits=hits,
        search_token=token,
        log_id=log_id,
        did_you_mean_url=(
            reverse("help:search") + "?" + urlencode({"q": results.did_you_mean})
            if results is not None and results.did_you_mean
            else ""
        ),
    )
    return render(request, "help/search.html", context)
