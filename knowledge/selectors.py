"""Reads of the knowledge base (STYLE.md habit 3): what a customer may see, search, suggestions, reports.

An article is visible when it is published, its `publish_at` has passed and it is global or belongs to the
help centre's shop. Everything public goes through `visible_articles`, so drafts, scheduled and archived
articles and other shops' articles never appear in a page, a count, a search hit or a suggestion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, F, FloatField, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from helpdesk.models import Shop
from knowledge import search
from knowledge.models import (
    Article,
    ArticleFeedback,
    ArticleStatus,
    KbCategory,
    SearchLog,
    content_language,
)
from knowledge.text import highlight, normalise_query, query_terms, snippet, tsquery_source


def other_language(language: str) -> str:
    return "en" if language == "zh-hans" else "zh-hans"


def visible_q(*, shop: Shop | None, now: datetime | None = None, prefix: str = "") -> Q:
    """The visibility condition, usable on Article (prefix "") or through a relation (prefix "articles__")."""
    now = now or timezone.now()
    return Q(**{f"{prefix}status": ArticleStatus.PUBLISHED, f"{prefix}publish_at__lte": now}) & (
        Q(**{f"{prefix}shop__isnull": True}) | Q(**{f"{prefix}shop": shop})
        if shop is not None
        else Q(**{f"{prefix}shop__isnull": True})
    )


def visible_articles(*, shop: Shop | None, language: str | None = None) -> QuerySet[Article]:
    qs = Article.objects.filter(visible_q(shop=shop))
    return qs.filter(language=language) if language else qs


def article_get_visible(pk: int, *, shop: Shop | None) -> Article:
    """One visible article with its category (and parent) joined; Article.DoesNotExist when hidden or missing."""
    return visible_articles(shop=shop).select_related("category", "category__parent").get(pk=pk)


# --- categories ---------------------------------------------------------------------------------------------


@dataclass
class CategoryNode:
    category: KbCategory
    article_count: int
    children: list[CategoryNode] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.article_count + sum(child.article_count for child in self.children)


def category_tree(*, language: str, shop: Shop | None) -> list[CategoryNode]:
    """Top-level categories with their children and visible-article counts; empty branches left out. One query."""
    counted = KbCategory.objects.annotate(
        article_count=Count(
            "articles", filter=visible_q(shop=shop, prefix="articles__") & Q(articles__language=language)
        )
    ).order_by("position", "slug")
    nodes = {c.pk: CategoryNode(c, c.article_count) for c in counted}
    roots: list[CategoryNode] = []
    for node in nodes.values():
        parent = nodes.get(node.category.parent_id) if node.category.parent_id else None
        if parent is not None:
            node.category.parent = parent.category  # str() and breadcrumbs without another query
            parent.children.append(node)
        else:
            roots.append(node)
    for root in roots:
        root.children = [child for child in root.children if child.article_count]
    return [root for root in roots if root.total]


def category_get(slug: str) -> KbCategory:
    return KbCategory.objects.select_related("parent").get(slug=slug)


def category_children(category: KbCategory) -> list[KbCategory]:
    return list(KbCategory.objects.filter(parent=category).order_by("position", "slug"))


def category_articles(
    category: KbCategory, *, language: str, shop: Shop | None, children: list[KbCategory] | None = None
) -> list[Article]:
    """Visible articles of the category and of its children, in their editors' order."""
    ids = [category.pk, *(child.pk for child in children or [])]
    return list(
        visible_articles(shop=shop, language=language)
        .filter(category_id__in=ids)
        .only("id", "title", "slug", "summary", "category_id", "position", "view_count")
        .order_by("position", "title")[:200]
    )


def popular_articles(*, language: str, shop: Shop | None, limit: int = 6) -> list[Article]:
    return list(
        visible_articles(shop=shop, language=language)
        .only("id", "title", "slug", "summary", "view_count")
        .order_by("-view_count", "position", "id")[:limit]
    )


def related_articles(article: Article, *, shop: Shop | None, limit: int = 5) -> list[Article]:
    """Editors' picks in the article's language first, topped up with the most read of its category. One query."""
    picked = Article.related.through.objects.filter(from_article=OuterRef("pk"), to_article=article.pk)
    return list(
        visible_articles(shop=shop, language=article.language)
        .annotate(picked=Exists(picked))
        .filter(Q(picked=True) | Q(category_id=article.category_id))
        .exclude(pk=article.pk)
        .only("id", "title", "slug", "summary")
        .order_by("-picked", "position", "-view_count", "id")[:limit]
    )


def article_translations(article: Article, *, shop: Shop | None) -> list[Article]:
    return list(
        visible_articles(shop=shop)
        .filter(translation_group=article.translation_group)
        .exclude(pk=article.pk)
        .only("id", "title", "slug", "language")
    )


def feedback_given(article: Article, *, session_key_hash: str) -> ArticleFeedback | None:
    return ArticleFeedback.objects.filter(article=article, session_key_hash=session_key_hash).first()


# --- search -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    id: int
    title: str
    title_html: str
    url: str
    snippet: str
    snippet_html: str
    language: str
    category_slug: str
    category_name: str
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "snippet": self.snippet,
            "snippet_html": self.snippet_html,
            "url": self.url,
            "language": self.language,
            "category": self.category_name,
        }


@dataclass(frozen=True)
class SearchResults:
    query: str
    normalised_query: str
    language: str  # asked for
    results_language: str  # of the hits: the other language when only it had any
    hits: list[SearchHit]
    total: int  # matches ranked (at most the candidate caps)
    capped: bool
    loosened: bool  # no article had every word: any word was enough
    did_you_mean: str | None

    @property
    def empty(self) -> bool:
        return not self.hits


def _hits(rows: list[search.RankedRow], terms: list) -> list[SearchHit]:
    hits = []
    for row in rows:
        cut = snippet(row.body_text, terms, fallback=row.summary)
        category = row.category_name if row.language == "zh-hans" else (row.category_name_en or row.category_name)
        hits.append(
            SearchHit(
                id=row.id,
                title=row.title,
                title_html=highlight(row.title, terms),
                url=reverse("help:article", kwargs={"pk": row.id, "slug": row.slug or "a"}),
                snippet=cut.text,
                snippet_html=cut.html,
                language=row.language,
                category_slug=row.category_slug,
                category_name=category,
                score=float(row.score),
            )
        )
    return hits


def kb_search(
    query: str,
    *,
    language: str,
    shop: Shop | None = None,
    limit: int = 20,
    prefix: bool = False,
    spelling: bool = True,
) -> SearchResults:
    """Ranked, highlighted results for a query in Chinese or English.

    Every word must match; when no article has them all, any word may (results marked `loosened`). When
    the asked language has nothing and the query is written in the other one, its articles are searched.
    `prefix` lets the last word match longer words (as-you-type suggestions). `spelling` adds "did you mean".
    """
    language = content_language(language)
    normalised = normalise_query(query)
    terms = query_terms(query)
    if not terms:
        return SearchResults(query, normalised, language, language, [], 0, False, False, None)
    now = timezone.now()
    shop_id = shop.pk if shop is not None else None
    languages = [language]
    if search.terms_language_hint(terms) != language:
        languages.append(other_language(language))
    rows: list[search.RankedRow] = []
    loosened = False
    used = language
    for candidate_language in languages:
        for operator in ("&", "|") if len(terms) > 1 else ("&",):
            source = tsquery_source(terms, operator=operator, prefix_last=prefix)
            rows = search.ranked(
                source,
                language=candidate_language,
                shop_id=shop_id,
                normalised=normalised,
                now=now,
                limit=limit,
                caps=search.SUGGEST_CAPS if prefix else None,
            )
            if rows:
                loosened = operator == "|"
                used = candidate_language
                break
        if rows:
            break
    total = rows[0].total if rows else 0
    suggestion = search.did_you_mean(query) if spelling else None
    return SearchResults(
        query=query,
        normalised_query=normalised,
        language=language,
        results_language=used,
        hits=_hits(rows, terms),
        total=total,
        capped=total >= (search.SUGGEST_CAPS[1] if prefix else search.CANDIDATE_CAP),
        loosened=loosened,
        did_you_mean=suggestion if suggestion and suggestion != normalised else None,
    )


def kb_suggest(query: str, language: str, shop: Shop | None = None, limit: int = 5) -> list[dict[str, Any]]:
    """The best few visible articles for a query being typed: [{id, title, snippet, url, …}], best first.

    For callers inside the project (the chat bot's deflection, the contact form); the JSON endpoint
    `GET /api/v1/kb/suggest` wraps it with logging, caching and throttling.
    """
    results = kb_search(query, language=language, shop=shop, limit=limit, prefix=True, spelling=False)
    return [hit.as_dict() for hit in results.hits]


def search_logs_owned(log_ids: list[int], *, session_key_hashes: set[str]) -> set[int]:
    """Which of these search logs were made by a client with one of these session hashes."""
    return set(
        SearchLog.objects.filter(pk__in=log_ids, session_key_hash__in=session_key_hashes).values_list("pk", flat=True)
    )


# --- reports for supervisors --------------------------------------------------------------------------------


def searches_without_results(*, days: int = 30, limit: int = 50) -> list[dict[str, Any]]:
    """The most frequent queries that found nothing: the articles customers miss."""
    since = timezone.now() - timedelta(days=days)
    return list(
        SearchLog.objects.filter(result_count=0, created_at__gte=since)
        .exclude(normalised_query="")
        .values("normalised_query", "language")
        .annotate(
            searches=Count("id"),
            tickets=Count("id", filter=Q(led_to_ticket=True)),
            last_searched=Max("created_at"),
        )
        .order_by("-searches", "normalised_query")[:limit]
    )


def top_searches(*, days: int = 30, limit: int = 50) -> list[dict[str, Any]]:
    """The most frequent queries with how often they led to a click, a ticket or a deflection."""
    since = timezone.now() - timedelta(days=days)
    return list(
        SearchLog.objects.filter(created_at__gte=since)
        .exclude(normalised_query="")
        .values("normalised_query", "language")
        .annotate(
            searches=Count("id"),
            clicks=Count("id", filter=Q(clicked_article__isnull=False)),
            tickets=Count("id", filter=Q(led_to_ticket=True)),
            deflected=Count("id", filter=Q(deflected=True)),
        )
        .order_by("-searches", "normalised_query")[:limit]
    )


def articles_least_helpful(*, min_votes: int = 3, limit: int = 50) -> QuerySet[Article]:
    """Articles with at least `min_votes` votes, the lowest share of "helpful" first."""
    return (
        Article.objects.annotate(votes=F("helpful_yes") + F("helpful_no"))
        .filter(votes__gte=min_votes)
        .annotate(ratio=Cast(F("helpful_yes"), FloatField()) / Cast(F("votes"), FloatField()))
        .select_related("category")
        .order_by("ratio", "-votes", "id")[:limit]
    )
