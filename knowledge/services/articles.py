"""Editorial writes: categories and articles (rendered, sanitised, indexed), publishing and archiving; audited."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from helpdesk.audit import audit_record
from helpdesk.models import Shop
from knowledge.models import Article, ArticleStatus, KbCategory
from knowledge.services.index import IndexedText, article_reindex, words_update
from knowledge.text import html_to_text, render_markdown
from tickets.errors import InvalidInput

LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)
MAX_BODY_CHARS = 100_000
_EDITABLE = (
    "category", "shop", "language", "translation_group", "title", "slug", "summary", "body", "status",
    "publish_at", "position",
)  # fmt: skip


def _actor_or_none(actor: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return actor if getattr(actor, "is_authenticated", False) else None


# --- categories ---------------------------------------------------------------------------------------------


@transaction.atomic
def category_save(
    *,
    actor: AbstractBaseUser | None,
    category: KbCategory | None = None,
    name: str,
    name_en: str,
    slug: str,
    parent: KbCategory | None = None,
    description: str = "",
    description_en: str = "",
    position: int = 100,
) -> KbCategory:
    """Create or change a category. Categories nest one level: a parent has no parent, a parent has no
    children of children. Renaming re-indexes the category's articles (their index holds its name)."""
    name, name_en, slug = (name or "").strip(), (name_en or "").strip(), (slug or "").strip()
    if not name:
        raise InvalidInput("A Chinese name is required.", field="name")
    if not name_en:
        raise InvalidInput("An English name is required.", field="name_en")
    if not slug or slugify(slug) != slug:
        raise InvalidInput("The slug must be lower-case Latin letters, digits and hyphens.", field="slug")
    if parent is not None:
        if category is not None and parent.pk == category.pk:
            raise InvalidInput("A category cannot be its own parent.", field="parent")
        if parent.parent_id is not None:
            raise InvalidInput("Categories nest one level: the parent is itself a sub-category.", field="parent")
        if category is not None and KbCategory.objects.filter(parent=category).exists():
            raise InvalidInput("This category has sub-categories, so it cannot have a parent.", field="parent")
    taken = KbCategory.objects.filter(slug=slug)
    if category is not None:
        taken = taken.exclude(pk=category.pk)
    if taken.exists():
        raise InvalidInput(f"Another category has the slug {slug!r}.", field="slug")
    values = {
        "name": name,
        "name_en": name_en,
        "slug": slug,
        "parent": parent,
        "description": (description or "").strip(),
        "description_en": (description_en or "").strip(),
        "position": position,
    }
    if category is None:
        category = KbCategory.objects.create(**values)
        audit_record(actor=actor, action="kb_category.create", obj=category, changes=_plain(values))
        return category
    category = KbCategory.objects.select_for_update().get(pk=category.pk)
    changes = {k: [_plain_value(getattr(category, k)), _plain_value(v)] for k, v in values.items()}
    changes = {k: v for k, v in changes.items() if v[0] != v[1]}
    if not changes:
        return category
    for key, value in values.items():
        setattr(category, key, value)
    category.save(update_fields=[*values, "updated_at"])
    if "name" in changes or "name_en" in changes:
        for article in Article.objects.filter(category=category).select_related("category"):
            article_reindex(article)
    audit_record(actor=actor, action="kb_category.update", obj=category, changes=changes)
    return category


# --- articles -----------------------------------------------------------------------------------------------


def _plain_value(value: Any) -> Any:
    if isinstance(value, KbCategory | Shop | Article):
        return value.pk
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {key: _plain_value(value) for key, value in values.items()}


def _body_digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:16]


@transaction.atomic
def article_save(
    *,
    actor: AbstractBaseUser | None,
    article: Article | None = None,
    category: KbCategory,
    language: str,
    title: str,
    body: str,
    slug: str = "",
    summary: str = "",
    shop: Shop | None = None,
    status: str = ArticleStatus.DRAFT,
    publish_at: datetime | None = None,
    position: int = 100,
    related: Sequence[Article] | None = None,
    translation_of: Article | None = None,
    translation_group: uuid.UUID | None = None,
) -> Article:
    """Create or change an article: render and sanitise its Markdown, index it for search, keep the
    vocabulary of "did you mean" in step, and audit what changed.

    A published article without `publish_at` is published now; a future `publish_at` schedules it.
    `translation_of` puts the article into that article's translation group (one article per language).
    `translation_group` sets the group directly (imports and the demo use stable natural keys).
    `related` (when given) replaces the related articles.
    """
    title, summary, slug, body = (title or "").strip(), (summary or "").strip(), (slug or "").strip(), body or ""
    if not title:
        raise InvalidInput("A title is required.", field="title")
    if len(title) > 200:
        raise InvalidInput("The title is longer than 200 characters.", field="title")
    if len(summary) > 300:
        raise InvalidInput("The summary is longer than 300 characters.", field="summary")
    if not body.strip():
        raise InvalidInput("The article has no text.", field="body")
    if len(body) > MAX_BODY_CHARS:
        raise InvalidInput(f"The article is longer than {MAX_BODY_CHARS} characters.", field="body")
    if language not in LANGUAGE_CODES:
        raise InvalidInput(f"Unknown language {language!r}.", field="language")
    if status not in ArticleStatus.values:
        raise InvalidInput(f"Unknown status {status!r}.", field="status")
    if category is None:
        raise InvalidInput("A category is required.", field="category")
    slug = slugify(slug or title)[:120]
    if status == ArticleStatus.PUBLISHED and publish_at is None:
        publish_at = timezone.now()

    before: IndexedText | None = None
    old: dict[str, Any] = {}
    if article is not None and article.pk is not None:
        article = Article.objects.select_for_update().get(pk=article.pk)
        before = IndexedText.of(article)
        old = {
            "title": article.title,
            "slug": article.slug,
            "summary": article.summary,
            "language": article.language,
            "category": article.category_id,
            "shop": article.shop_id,
            "status": article.status,
            "publish_at": _plain_value(article.publish_at),
            "position": article.position,
            "body": _body_digest(article.body),
            "translation_group": str(article.translation_group),
        }
    else:
        article = Article(created_by=_actor_or_none(actor))

    group = translation_group or article.translation_group or uuid.uuid4()
    if translation_of is not None:
        if translation_of.pk == article.pk:
            raise InvalidInput("An article cannot be a translation of itself.", field="translation_of")
        group = translation_of.translation_group
    clash = Article.objects.filter(translation_group=group, language=language)
    if article.pk is not None:
        clash = clash.exclude(pk=article.pk)
    if clash.exists():
        raise InvalidInput("That translation group already has an article in this language.", field="language")

    html = render_markdown(body)
    article.category = category
    article.shop = shop
    article.language = language
    article.translation_group = group
    article.title = title
    article.slug = slug
    article.summary = summary
    article.body = body
    article.body_html = html
    article.body_text = html_to_text(html)
    article.status = status
    article.publish_at = publish_at
    article.position = position
    article.updated_by = _actor_or_none(actor)
    if before is None:
        article.save(force_insert=True)
    else:  # not the counters: views and votes keep arriving while an editor saves
        article.save(update_fields=[*_EDITABLE, "body_html", "body_text", "updated_by", "updated_at"])
    article_reindex(article)
    related_change = _related_set(article, related) if related is not None else None
    words_update(before, IndexedText.of(article))

    new = {
        "title": article.title,
        "slug": article.slug,
        "summary": article.summary,
        "language": article.language,
        "category": article.category_id,
        "shop": article.shop_id,
        "status": article.status,
        "publish_at": _plain_value(article.publish_at),
        "position": article.position,
        "body": _body_digest(article.body),
        "translation_group": str(article.translation_group),
    }
    if before is None:
        if related_change:
            new["related"] = related_change[1]
        audit_record(actor=actor, action="kb_article.create", obj=article, changes=new)
    else:
        changes = {key: [old[key], value] for key, value in new.items() if old[key] != value}
        if related_change:
            changes["related"] = related_change
        if changes:
            audit_record(actor=actor, action="kb_article.update", obj=article, changes=changes)
    return article


def _related_set(article: Article, related: Sequence[Article]) -> list[list[int]] | None:
    """Replace the related articles; [before, after] ids when they changed."""
    before = sorted(article.related.values_list("pk", flat=True))
    after = sorted({r.pk for r in related if r.pk != article.pk})
    if before == after:
        return None
    article.related.set(after)
    return [before, after]


@transaction.atomic
def article_related_set(*, actor: AbstractBaseUser | None, article: Article, related: Sequence[Article]) -> Article:
    """Replace an article's related articles (the relation is symmetrical: they list it too)."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    change = _related_set(article, related)
    if change:
        audit_record(actor=actor, action="kb_article.related", obj=article, changes={"related": change})
    return article


@transaction.atomic
def article_publish(*, actor: AbstractBaseUser | None, article: Article, publish_at: datetime | None = None) -> Article:
    """Publish now, or at `publish_at` (visible from then on, with no job to run)."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    before = IndexedText.of(article)
    when = publish_at or (
        article.publish_at if article.status != ArticleStatus.PUBLISHED and article.publish_at else timezone.now()
    )
    if article.status == ArticleStatus.PUBLISHED and article.publish_at == when:
        return article
    changes = {"status": [article.status, ArticleStatus.PUBLISHED], "publish_at": [article.publish_at, when]}
    article.status = ArticleStatus.PUBLISHED
    article.publish_at = when
    article.updated_by = _actor_or_none(actor)
    article.save(update_fields=["status", "publish_at", "updated_by", "updated_at"])
    words_update(before, IndexedText.of(article))
    audit_record(actor=actor, action="kb_article.publish", obj=article, changes=changes)
    return article


@transaction.atomic
def article_archive(*, actor: AbstractBaseUser | None, article: Article) -> Article:
    """Take an article off the help centre (kept for its history, votes and search statistics)."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status == ArticleStatus.ARCHIVED:
        return article
    before = IndexedText.of(article)
    changes = {"status": [article.status, ArticleStatus.ARCHIVED]}
    article.status = ArticleStatus.ARCHIVED
    article.updated_by = _actor_or_none(actor)
    article.save(update_fields=["status", "updated_by", "updated_at"])
    words_update(before, IndexedText.of(article))
    audit_record(actor=actor, action="kb_article.archive", obj=article, changes=changes)
    return article
