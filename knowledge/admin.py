"""Knowledge-base admin for supervisors: categories and articles edited through the services (validated,
audited), a preview of the sanitised HTML (live, and as customers will see the page), and reports on what
customers search without finding and which articles leave them unhelped.

Telemetry (search logs, clicks, votes, words) is read-only here: only the help centre writes it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from helpdesk.admin import AuditedAdminMixin, NotFoundAdminMixin, ReadOnlyAdminMixin, is_supervisor
from knowledge import selectors, services
from knowledge.models import Article, ArticleFeedback, ArticleStatus, KbCategory, KbWord, SearchClick, SearchLog
from knowledge.text import render_markdown
from tickets.admin.common import ServiceFormAdminMixin, ServiceRejected
from tickets.admin.forms import ServiceModelForm
from tickets.errors import TicketError

# --- categories ---------------------------------------------------------------------------------------------


class KbCategoryAdminForm(ServiceModelForm):
    class Meta:
        model = KbCategory
        fields = ["name", "name_en", "slug", "parent", "description", "description_en", "position"]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Only top-level categories can be parents (one level of nesting).
        parents = KbCategory.objects.filter(parent__isnull=True)
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents


@admin.register(KbCategory)
class KbCategoryAdmin(NotFoundAdminMixin, ServiceFormAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    form = KbCategoryAdminForm
    list_display = ["__str__", "name_en", "slug", "parent", "position"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "name_en", "slug"]
    list_select_related = ["parent"]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[KbCategory]:
        return super().get_queryset(request).select_related("parent")

    def audit_action(self, obj: Any, verb: str) -> str:
        return f"kb_category.{verb}"

    def save_model(self, request: HttpRequest, obj: KbCategory, form: KbCategoryAdminForm, change: bool) -> None:
        data = form.cleaned_data
        try:
            saved = services.category_save(
                actor=request.user,
                category=KbCategory.objects.get(pk=obj.pk) if change else None,
                **{name: data.get(name) for name in KbCategoryAdminForm.Meta.fields},
            )
        except TicketError as error:
            raise ServiceRejected(error) from error
        obj.pk, obj._state.adding = saved.pk, False

    def save_related(self, request: HttpRequest, form: Any, formsets: list, change: bool) -> None:
        pass  # nothing but the category itself is edited here


# --- articles -----------------------------------------------------------------------------------------------


class ArticleAdminForm(ServiceModelForm):
    translation_of = forms.ModelChoiceField(
        queryset=Article.objects.none(),
        required=False,
        label=_("translation of"),
        help_text=_("The article in the other language this one translates; they link to each other."),
    )

    class Meta:
        model = Article
        fields = [
            "title",
            "slug",
            "language",
            "category",
            "shop",
            "summary",
            "body",
            "status",
            "publish_at",
            "position",
            "related",
        ]
        widgets = {"body": forms.Textarea(attrs={"rows": 24, "cols": 100, "class": "vLargeTextField"})}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        others = Article.objects.order_by("title")
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
            partner = (
                Article.objects.filter(translation_group=self.instance.translation_group)
                .exclude(pk=self.instance.pk)
                .first()
            )
            if partner is not None:
                self.fields["translation_of"].initial = partner.pk
        self.fields["translation_of"].queryset = others
        self.fields["slug"].required = False

    def _get_validation_exclusions(self) -> set[str]:
        # article_save sets publish_at of an article published without one; the model's check constraint
        # (published ⇒ publish_at) would refuse the form before the service could.
        return {*super()._get_validation_exclusions(), "publish_at"}


@admin.register(Article)
class ArticleAdmin(NotFoundAdminMixin, ServiceFormAdminMixin, admin.ModelAdmin):
    form = ArticleAdminForm
    list_display = [
        "title",
        "language",
        "category",
        "shop",
        "status",
        "publish_at",
        "view_count",
        "helpful_display",
        "updated_at",
    ]
    list_filter = ["status", "language", ("category", admin.RelatedOnlyFieldListFilter), "shop"]
    search_fields = ["title", "slug", "summary"]
    list_select_related = ["category", "category__parent", "shop"]
    autocomplete_fields = ["related"]
    date_hierarchy = None
    show_full_result_count = False
    actions = ["publish_selected", "archive_selected"]
    readonly_fields = [
        "preview",
        "view_count",
        "helpful_display",
        "translation_links",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["title", "slug", "language", "translation_of", "translation_links", "category", "shop"]}),
        (_("Content (Markdown)"), {"fields": ["summary", "body", "preview"]}),
        (_("Publishing"), {"fields": ["status", "publish_at", "position", "related"]}),
        (
            _("Readers"),
            {"fields": ["view_count", "helpful_display", "created_by", "updated_by", "created_at", "updated_at"]},
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        return super().get_queryset(request).select_related("category", "category__parent", "shop")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # archive instead: votes and search statistics keep pointing at the article

    def save_model(self, request: HttpRequest, obj: Article, form: ArticleAdminForm, change: bool) -> None:
        """Never obj.save(): article_save renders, sanitises, indexes and audits."""
        data = form.cleaned_data
        try:
            saved = services.article_save(
                actor=request.user,
                article=Article(pk=obj.pk) if change else None,
                category=data["category"],
                language=data["language"],
                title=data["title"],
                body=data["body"],
                slug=data.get("slug") or "",
                summary=data.get("summary") or "",
                shop=data.get("shop"),
                status=data["status"],
                publish_at=data.get("publish_at"),
                position=data.get("position") or 100,
                related=list(data.get("related") or []),
                translation_of=data.get("translation_of"),
            )
        except TicketError as error:
            raise ServiceRejected(error) from error
        obj.pk, obj._state.adding = saved.pk, False

    def save_related(self, request: HttpRequest, form: Any, formsets: list, change: bool) -> None:
        pass  # related articles went through article_save

    # --- columns and read-only fields ---

    @admin.display(description=_("helpful"))
    def helpful_display(self, obj: Article) -> str:
        total = obj.helpful_yes + obj.helpful_no
        if not total:
            return "—"
        return f"{obj.helpful_yes}/{total} ({100 * obj.helpful_yes // total}%)"

    @admin.display(description=_("preview (sanitised HTML)"))
    def preview(self, obj: Article) -> str:
        url = reverse("admin:knowledge_article_preview_markdown")
        page = (
            format_html(
                ' <a href="{}" target="_blank" rel="noopener">{}</a>',
                reverse("admin:knowledge_article_preview", args=[obj.pk]),
                _("Open as customers will see it"),
            )
            if obj.pk
            else ""
        )
        # body_html was sanitised by article_save (nh3 allowlist): safe to embed.
        return format_html(
            '<div><button type="button" class="button" data-kb-preview-url="{}">{}</button>{}</div>'
            '<div id="kb-preview" class="kb-admin-preview" style="max-width:52rem;border:1px solid #ddd;'
            'padding:8px 14px;margin-top:8px;background:#fff;color:#1f2933">{}</div>',
            url,
            _("Preview the text above"),
            page,
            mark_safe(obj.body_html) if obj.pk else "",  # noqa: S308
        )

    @admin.display(description=_("translations"))
    def translation_links(self, obj: Article) -> str:
        if not obj.pk:
            return "—"
        others = Article.objects.filter(translation_group=obj.translation_group).exclude(pk=obj.pk)
        links = [
            format_html(
                '<a href="{}">{} [{}]</a>', reverse("admin:knowledge_article_change", args=[a.pk]), a.title, a.language
            )
            for a in others
        ]
        return mark_safe(", ".join(links)) if links else "—"  # noqa: S308 (each part went through format_html)

    # --- preview views ---

    def get_urls(self) -> list:
        return [
            path(
                "preview-markdown/",
                self.admin_site.admin_view(self.preview_markdown_view),
                name="knowledge_article_preview_markdown",
            ),
            path(
                "<path:object_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="knowledge_article_preview",
            ),
            *super().get_urls(),
        ]

    def preview_markdown_view(self, request: HttpRequest) -> HttpResponse:
        """POST body=<Markdown> → {"html": the sanitised HTML customers would get}. Saves nothing."""
        if request.method != "POST":
            return JsonResponse({"errors": {"method": ["POST only."]}}, status=405)
        if not (self.has_change_permission(request) or self.has_add_permission(request)):
            raise PermissionDenied
        return JsonResponse({"html": render_markdown(request.POST.get("body", "")[: services.MAX_BODY_CHARS])})

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The article page as customers will see it, whatever its status (drafts included)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        article = self.get_object(request, object_id)
        if article is None:
            raise Http404(_("No such object."))
        context = {
            "article": article,
            "preview": True,
            "related": selectors.related_articles(article, shop=article.shop),
            "translations": [],
            "kb_language": article.language,
        }
        return TemplateResponse(request, "help/article.html", context)

    # --- actions ---

    @admin.action(description=_("Publish the selected articles now"), permissions=["change"])
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        count = 0
        for article in queryset:
            if article.status != ArticleStatus.PUBLISHED:
                services.article_publish(actor=request.user, article=article)
                count += 1
        self.message_user(
            request, ngettext("%d article published.", "%d articles published.", count) % count, messages.SUCCESS
        )

    @admin.action(description=_("Archive the selected articles"), permissions=["change"])
    def archive_selected(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        count = 0
        for article in queryset:
            if article.status != ArticleStatus.ARCHIVED:
                services.article_archive(actor=request.user, article=article)
                count += 1
        self.message_user(
            request, ngettext("%d article archived.", "%d articles archived.", count) % count, messages.SUCCESS
        )

    class Media:
        js = ["knowledge/admin_preview.js"]


# --- telemetry, read-only -----------------------------------------------------------------------------------


class SupervisorOnlyMixin:
    """Search logs and feedback span every shop: supervisors only."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_supervisor(request.user) and super().has_view_permission(request, obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_supervisor(request.user) and super().has_module_permission(request)


@admin.register(SearchLog)
class SearchLogAdmin(NotFoundAdminMixin, SupervisorOnlyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "query",
        "language",
        "source",
        "result_count",
        "clicked_article",
        "led_to_ticket",
        "deflected",
        "shop",
    ]
    list_filter = ["source", "language", "led_to_ticket", "deflected", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["normalised_query"]
    list_select_related = ["clicked_article", "shop"]
    show_full_result_count = False

    def get_urls(self) -> list:
        return [
            path("report/", self.admin_site.admin_view(self.report_view), name="knowledge_searchlog_report"),
            *super().get_urls(),
        ]

    def report_view(self, request: HttpRequest) -> HttpResponse:
        """Top searches without results, top searches, and the least helpful articles (SQL aggregates)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            days = max(1, min(int(request.GET.get("days", 30)), 365))
        except ValueError:
            days = 30
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Knowledge-base report"),
            "days": days,
            "no_results": selectors.searches_without_results(days=days, limit=30),
            "top": selectors.top_searches(days=days, limit=30),
            "least_helpful": selectors.articles_least_helpful(min_votes=3, limit=30),
        }
        return TemplateResponse(request, "admin/knowledge/searchlog/report.html", context)


@admin.register(ArticleFeedback)
class ArticleFeedbackAdmin(NotFoundAdminMixin, SupervisorOnlyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "article", "helpful", "comment", "language"]
    list_filter = ["helpful", "language"]
    search_fields = ["comment", "article__title"]
    list_select_related = ["article"]
    show_full_result_count = False


@admin.register(SearchClick)
class SearchClickAdmin(NotFoundAdminMixin, SupervisorOnlyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["normalised_query", "language", "article", "clicks", "last_clicked_at"]
    list_filter = ["language"]
    search_fields = ["normalised_query"]
    list_select_related = ["article"]
    ordering = ["-clicks"]


@admin.register(KbWord)
class KbWordAdmin(NotFoundAdminMixin, SupervisorOnlyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["word", "language", "frequency"]
    list_filter = ["language"]
    search_fields = ["word"]
    ordering = ["-frequency"]
    show_full_result_count = False
