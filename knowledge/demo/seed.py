"""Seed the demo knowledge base: categories and zh/en article pairs, through the services, idempotently.

Natural keys: a category's slug; an article's translation group (uuid5 of its key) and language. A second run
changes only what differs from the definition (and audits just that), so after an upgrade of the demo texts
it brings them up to date without duplicating anything. A few search logs and votes are added once, so the
supervisors' report has something to show.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from django.db import transaction

from helpdesk import context
from knowledge import selectors, services
from knowledge.demo import content_en, content_zh
from knowledge.demo.catalog import ARTICLES, CATEGORIES
from knowledge.models import Article, ArticleFeedback, ArticleStatus, KbCategory, SearchLog, SearchSource

NAMESPACE = uuid.UUID("5f1c2f3e-8d3b-4b8e-9a57-6b1d2c0a4e11")
DEMO_SESSION_PREFIX = "seed_kb-"
CONTENT = {"zh-hans": content_zh.ARTICLES, "en": content_en.ARTICLES}

# Searches customers made that found nothing (zero-result report) and a few that did.
DEMO_SEARCHES = [
    ("开发票", "zh-hans", 4),
    ("发票", "zh-hans", 3),
    ("invoice", "en", 3),
    ("paypal", "en", 2),
    ("卡密无效", "zh-hans", 5),
    ("refund", "en", 3),
    ("充值失败", "zh-hans", 4),
]
# (article key, language, helpful votes, unhelpful votes with comments)
DEMO_VOTES = [
    ("invalid-card-key", "zh-hans", 6, ["换了还是无效，等了两天"]),
    ("wrong-region-denomination", "zh-hans", 1, ["没写港区怎么换", "想知道差价怎么补", "太长了"]),
    ("refund-timeline", "en", 4, []),
    ("recharge-failed", "en", 3, ["My number was ported, still no refund after 5 days"]),
]


def group_for(key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"carddesk-demo-kb:{key}")


@dataclass
class SeedResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def _categories(result: SeedResult) -> dict[str, KbCategory]:
    found: dict[str, KbCategory] = {}
    for spec in CATEGORIES:
        existing = KbCategory.objects.filter(slug=spec.slug).first()
        wanted = {
            "name": spec.name,
            "name_en": spec.name_en,
            "slug": spec.slug,
            "parent": found.get(spec.parent),
            "description": spec.description,
            "description_en": spec.description_en,
            "position": spec.position,
        }
        if (
            existing is not None
            and all(getattr(existing, k) == v for k, v in wanted.items() if k != "parent")
            and existing.parent_id == (wanted["parent"].pk if wanted["parent"] else None)
        ):
            found[spec.slug] = existing
            continue
        found[spec.slug] = services.category_save(actor=None, category=existing, **wanted)
    return found


def _same(article: Article, **wanted: object) -> bool:
    return all(getattr(article, key) == value for key, value in wanted.items())


def _articles(result: SeedResult, categories: dict[str, KbCategory]) -> dict[tuple[str, str], Article]:
    saved: dict[tuple[str, str], Article] = {}
    for spec in ARTICLES:
        group = group_for(spec.key)
        for language, texts in CONTENT.items():
            title, summary, body = texts[spec.key]
            existing = Article.objects.filter(translation_group=group, language=language).first()
            wanted = {
                "title": title,
                "summary": summary,
                "body": body,
                "slug": spec.key,
                "category_id": categories[spec.category].pk,
                "status": ArticleStatus.PUBLISHED,
                "position": spec.position,
                "shop_id": None,
            }
            if existing is not None and _same(existing, **wanted):
                saved[(spec.key, language)] = existing
                result.unchanged += 1
                continue
            saved[(spec.key, language)] = services.article_save(
                actor=None,
                article=existing,
                category=categories[spec.category],
                language=language,
                title=title,
                body=body,
                slug=spec.key,
                summary=summary,
                status=ArticleStatus.PUBLISHED,
                publish_at=existing.publish_at if existing is not None else None,
                position=spec.position,
                translation_group=group,
            )
            if existing is None:
                result.created += 1
            else:
                result.updated += 1
    # Related articles are symmetrical: each article's set is its own picks plus those that picked it.
    wanted_related: dict[str, set[str]] = {spec.key: set(spec.related) for spec in ARTICLES}
    for spec in ARTICLES:
        for other in spec.related:
            wanted_related[other].add(spec.key)
    for spec in ARTICLES:
        for language in CONTENT:
            article = saved[(spec.key, language)]
            wanted_ids = {saved[(key, language)].pk for key in wanted_related[spec.key]}
            if set(article.related.values_list("pk", flat=True)) != wanted_ids:
                services.article_related_set(
                    actor=None, article=article, related=[saved[(key, language)] for key in wanted_related[spec.key]]
                )
    return saved


def _telemetry(saved: dict[tuple[str, str], Article]) -> None:
    """Once: some searches (a few finding nothing) and votes, for the supervisors' report."""
    if SearchLog.objects.filter(session_key_hash__startswith=DEMO_SESSION_PREFIX).exists():
        return
    n = 0
    for query, language, times in DEMO_SEARCHES:
        results = selectors.kb_search(query, language=language, spelling=False)
        for _ in range(times):
            n += 1
            services.search_log_record(
                query=query,
                language=language,
                result_count=results.total,
                source=SearchSource.PAGE,
                session_key_hash=f"{DEMO_SESSION_PREFIX}{n}",
            )
    for key, language, yes, comments in DEMO_VOTES:
        article = saved[(key, language)]
        for i in range(yes):
            services.feedback_record(article=article, helpful=True, session_key_hash=f"{DEMO_SESSION_PREFIX}y{i}")
        for i, comment in enumerate(comments):
            services.feedback_record(
                article=article, helpful=False, comment=comment, session_key_hash=f"{DEMO_SESSION_PREFIX}n{i}"
            )


def counts() -> dict[str, int]:
    published = Article.objects.filter(status=ArticleStatus.PUBLISHED)
    return {
        "categories": KbCategory.objects.count(),
        "articles": Article.objects.count(),
        "published": published.count(),
        "zh-hans": published.filter(language="zh-hans").count(),
        "en": published.filter(language="en").count(),
        "search logs": SearchLog.objects.count(),
        "votes": ArticleFeedback.objects.count(),
    }


def seed_kb() -> SeedResult:
    """Create or update the demo knowledge base in one transaction; audit events carry "seed_kb"."""
    started = time.perf_counter()
    result = SeedResult()
    with context.bound(actor_label="seed_kb"), transaction.atomic():
        categories = _categories(result)
        saved = _articles(result, categories)
        _telemetry(saved)
        result.counts = counts()
    result.seconds = time.perf_counter() - started
    return result
