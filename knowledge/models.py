"""Knowledge base: categories, articles (zh/en translations of each other), feedback and search telemetry.

Rows are written only through `knowledge.services`; the search columns (`search_vector`, `title_vector`) and
the rendered body (`body_html`, `body_text`) are derived there from the Markdown source, never edited.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Shop, TimeStampedModel


def content_language(code: str | None) -> str:
    """The content language for a UI language code: every Chinese variant reads zh-hans, anything else en."""
    return "zh-hans" if (code or "").lower().startswith("zh") else "en"


class KbCategory(TimeStampedModel):
    """A help-centre section. Nested one level: a category with a parent cannot itself be a parent."""

    name = models.CharField(_("name (Chinese)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    description = models.CharField(_("description (Chinese)"), max_length=300, blank=True)
    description_en = models.CharField(_("description (English)"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("knowledge-base category")
        verbose_name_plural = _("knowledge-base categories")
        constraints = [
            models.CheckConstraint(condition=~models.Q(parent=models.F("id")), name="kbcategory_not_own_parent")
        ]

    def __str__(self) -> str:
        # Callers listing categories join the parent (select_related), as tickets.Category's do.
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name

    def label(self, language: str | None = None) -> str:
        language = content_language(language or get_language())
        return self.name if language == "zh-hans" else (self.name_en or self.name)

    @property
    def local_name(self) -> str:
        return self.label()

    @property
    def local_description(self) -> str:
        zh = content_language(get_language()) == "zh-hans"
        return self.description if zh else (self.description_en or self.description)

    def get_absolute_url(self) -> str:
        return reverse("help:category", args=[self.slug])


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class Article(TimeStampedModel):
    """One article in one language. Articles sharing a translation group are translations of each other.

    Visible to customers when published and `publish_at` has passed (a query condition: scheduled articles
    appear without any job running), in every shop's help centre when `shop` is empty, else only in that one.
    """

    shop = models.ForeignKey(
        Shop,
        verbose_name=_("shop"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="kb_articles",
        help_text=_("Empty for an article every shop's help centre shows."),
    )
    category = models.ForeignKey(
        KbCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="articles"
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    translation_group = models.UUIDField(_("translation group"), default=uuid.uuid4, editable=False)
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=120, blank=True, help_text=_("Latin letters; shown in the URL."))
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    body = models.TextField(_("body (Markdown)"))
    body_html = models.TextField(_("body (HTML)"), editable=False, default="")
    body_text = models.TextField(_("body (plain text)"), editable=False, default="")
    status = models.CharField(_("status"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    publish_at = models.DateTimeField(
        _("publish at"), null=True, blank=True, help_text=_("Published articles appear from this time on.")
    )
    position = models.PositiveSmallIntegerField(_("position in category"), default=100)
    related = models.ManyToManyField("self", verbose_name=_("related articles"), blank=True, symmetrical=True)
    view_count = models.PositiveBigIntegerField(_("views"), default=0, editable=False)
    helpful_yes = models.PositiveIntegerField(_("helpful"), default=0, editable=False)
    helpful_no = models.PositiveIntegerField(_("not helpful"), default=0, editable=False)
    # Title (A), summary and category (B), body (D): jieba-segmented with the 'simple' configuration for
    # Chinese, the 'english' configuration (stemming) for English.
    search_vector = SearchVectorField(null=True, editable=False)
    title_vector = SearchVectorField(null=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["position", "title"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        constraints = [
            models.UniqueConstraint(fields=["translation_group", "language"], name="article_one_per_language"),
            models.CheckConstraint(
                condition=~models.Q(status="published") | models.Q(publish_at__isnull=False),
                name="article_published_has_publish_at",
            ),
        ]
        # GIN indexes on the search columns, one per language over published articles only: a search always
        # names its language, so the planner takes the matching (half-size) index and never ANDs its bitmap
        # with another index; drafts and archives are never searched.
        indexes = [
            *(
                GinIndex(
                    fields=[column],
                    condition=models.Q(language=code, status="published"),
                    name=f"article_{column.split('_')[0]}_{code.split('-')[0]}_gin",
                )
                for column in ("search_vector", "title_vector")
                for code in ("zh-hans", "en")
            ),
            models.Index(
                fields=["category", "language", "position"],
                condition=models.Q(status="published"),
                name="article_category_published_idx",
            ),
            models.Index(
                fields=["language", "-view_count"],
                condition=models.Q(status="published"),
                name="article_popular_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} [{self.language}]"

    def get_absolute_url(self) -> str:
        return reverse("help:article", kwargs={"pk": self.pk, "slug": self.slug or "a"})

    @property
    def helpful_total(self) -> int:
        return self.helpful_yes + self.helpful_no


class ArticleFeedback(models.Model):
    """A "was this helpful?" vote, optionally with a comment; one per article and browser session."""

    article = models.ForeignKey(Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="feedback")
    helpful = models.BooleanField(_("helpful"))
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    session_key_hash = models.CharField(_("session"), max_length=64)
    search_log = models.ForeignKey(
        "SearchLog", verbose_name=_("search"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("article feedback")
        verbose_name_plural = _("article feedback")
        constraints = [
            models.UniqueConstraint(fields=["article", "session_key_hash"], name="feedback_one_vote_per_session")
        ]

    def __str__(self) -> str:
        return f"{'+' if self.helpful else '-'} {self.article_id}"


class SearchSource(models.TextChoices):
    PAGE = "page", _("Search page")
    SUGGEST = "suggest", _("Suggestions as you type")


class SearchLog(models.Model):
    """One search. Suggestions typed in one go (each query extending the last) share one row."""

    query = models.CharField(_("query"), max_length=200)
    normalised_query = models.CharField(_("normalised query"), max_length=200)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    shop = models.ForeignKey(Shop, verbose_name=_("shop"), null=True, blank=True, on_delete=models.SET_NULL)
    source = models.CharField(_("source"), max_length=10, choices=SearchSource.choices, default=SearchSource.PAGE)
    result_count = models.PositiveIntegerField(_("results"))
    clicked_article = models.ForeignKey(
        Article, verbose_name=_("clicked article"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    led_to_ticket = models.BooleanField(_("led to a ticket"), default=False)
    deflected = models.BooleanField(_("deflected"), default=False)
    session_key_hash = models.CharField(_("session"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("search log")
        verbose_name_plural = _("search logs")
        indexes = [
            models.Index(fields=["created_at"], name="searchlog_created_idx"),
            models.Index(fields=["session_key_hash", "-id"], name="searchlog_session_idx"),
            models.Index(
                fields=["normalised_query", "language"],
                condition=models.Q(result_count=0),
                name="searchlog_no_results_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.query


class SearchClick(models.Model):
    """How often searchers of one normalised query opened one article: the ranking's learned boost."""

    normalised_query = models.CharField(_("normalised query"), max_length=200)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    article = models.ForeignKey(Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="+")
    clicks = models.FloatField(_("clicks"), default=0)  # float: the weekly decay halves it
    last_clicked_at = models.DateTimeField(_("last clicked at"), auto_now=True)

    class Meta:
        verbose_name = _("search click")
        verbose_name_plural = _("search clicks")
        constraints = [
            models.UniqueConstraint(
                fields=["normalised_query", "language", "article"], name="searchclick_one_per_query_article"
            )
        ]

    def __str__(self) -> str:
        return f"{self.normalised_query} → {self.article_id} ({self.clicks:g})"


class KbWord(models.Model):
    """Distinct words of the published articles, for "did you mean" through a trigram index."""

    word = models.CharField(_("word"), max_length=40)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    frequency = models.PositiveIntegerField(_("frequency"), default=0)

    class Meta:
        verbose_name = _("knowledge-base word")
        verbose_name_plural = _("knowledge-base words")
        constraints = [models.UniqueConstraint(fields=["word", "language"], name="kbword_unique")]
        indexes = [GinIndex(OpClass("word", name="gin_trgm_ops"), name="kbword_trgm")]

    def __str__(self) -> str:
        return self.word
