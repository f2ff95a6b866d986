"""The knowledge-base admin: saves through the services (audited), preview of the sanitised HTML, reports."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from helpdesk.models import AuditEvent
from helpdesk.roles import GROUP_NAMES, Role
from knowledge import services
from knowledge.models import Article, ArticleFeedback, ArticleStatus, KbCategory, KbWord, SearchClick, SearchLog
from tests.factories import make_merchant, make_user
from tests.knowledge.conftest import make_article

KB_PERMISSIONS = [
    "view_article", "add_article", "change_article", "view_kbcategory", "add_kbcategory", "change_kbcategory",
    "view_searchlog", "view_articlefeedback", "view_searchclick", "view_kbword",
]  # fmt: skip


@pytest.fixture
def editor(client, db):
    """A supervisor holding the knowledge permissions the Supervisors role is given."""
    user = make_user(Role.SUPERVISOR, username="kb-editor")
    group = Group.objects.get(name=GROUP_NAMES[Role.SUPERVISOR])
    group.permissions.add(*Permission.objects.filter(content_type__app_label="knowledge", codename__in=KB_PERMISSIONS))
    client.force_login(user)
    return client


def article_form(article: Article | None = None, **overrides) -> dict:
    data = {
        "title": article.title if article else "",
        "slug": article.slug if article else "",
        "language": article.language if article else "en",
        "translation_of": "",
        "category": article.category_id if article else "",
        "shop": "",
        "summary": "",
        "body": article.body if article else "",
        "status": article.status if article else ArticleStatus.DRAFT,
        "publish_at_0": "",
        "publish_at_1": "",
        "position": 100,
        "related": [],
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_every_page_opens(editor, corpus):
    services.search_log_record(query="zzz", language="en", result_count=0, session_key_hash="s")
    services.feedback_record(article=corpus.invalid_en, helpful=False, session_key_hash="s", comment="meh")
    rows = {
        "article": corpus.invalid_en,
        "kbcategory": corpus.keys,
        "searchlog": SearchLog.objects.first(),
        "articlefeedback": ArticleFeedback.objects.first(),
        "searchclick": None,
        "kbword": KbWord.objects.first(),
    }
    for model, obj in rows.items():
        assert editor.get(reverse(f"admin:knowledge_{model}_changelist")).status_code == 200, model
        if obj is not None:
            assert editor.get(reverse(f"admin:knowledge_{model}_change", args=[obj.pk])).status_code == 200, model
    assert editor.get(reverse("admin:knowledge_article_add")).status_code == 200


@pytest.mark.django_db
def test_adding_an_article_goes_through_the_service(editor, corpus):
    data = article_form(
        title="New <b>article</b>",
        category=corpus.keys.pk,
        body="Hello <script>alert(1)</script> [x](javascript:alert(1))",
        status=ArticleStatus.PUBLISHED,
        translation_of=corpus.redeem_zh.pk,
        related=[corpus.invalid_en.pk],
    )
    data["translation_of"] = ""  # redeem_zh already has an English translation: would clash
    response = editor.post(reverse("admin:knowledge_article_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    article = Article.objects.get(title="New <b>article</b>")
    assert "script" not in article.body_html and "javascript" not in article.body_html
    assert article.publish_at is not None and list(article.related.all()) == [corpus.invalid_en]
    event = AuditEvent.objects.get(action="kb_article.create", object_id=str(article.pk))
    assert event.actor.username == "kb-editor"


@pytest.mark.django_db
def test_a_service_refusal_is_shown_on_its_field(editor, corpus):
    data = article_form(title="Second English", category=corpus.keys.pk, body="x", translation_of=corpus.invalid_zh.pk)
    response = editor.post(reverse("admin:knowledge_article_add"), data)
    assert response.status_code == 200
    assert "already has an article in this language" in response.content.decode()
    assert not Article.objects.filter(title="Second English").exists()


@pytest.mark.django_db
def test_changing_an_article_is_audited_and_keeps_its_translation(editor, corpus):
    article = corpus.invalid_en
    data = article_form(article, title="Card key invalid (updated)", translation_of=corpus.invalid_zh.pk)
    response = editor.post(reverse("admin:knowledge_article_change", args=[article.pk]), data)
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.title == "Card key invalid (updated)"
    assert article.translation_group == corpus.invalid_zh.translation_group
    assert AuditEvent.objects.filter(action="kb_article.update", object_id=str(article.pk)).exists()


@pytest.mark.django_db
def test_preview_field_page_and_live_preview(editor, corpus):
    draft = make_article("Draft with **bold**", "**bold** <script>x</script>", language="en", status="draft")
    change = editor.get(reverse("admin:knowledge_article_change", args=[draft.pk])).content.decode()
    assert "<strong>bold</strong>" in change and "<script>x</script>" not in change
    page = editor.get(reverse("admin:knowledge_article_preview", args=[draft.pk]))
    assert page.status_code == 200 and "kb-preview-banner" in page.content.decode()
    assert "<strong>bold</strong>" in page.content.decode()
    live = editor.post(reverse("admin:knowledge_article_preview_markdown"), {"body": "*hi* <script>y</script>"})
    assert live.json() == {"html": "<p><em>hi</em> </p>"}
    # Customers still cannot see the draft.
    assert editor.get(draft.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_publish_and_archive_actions(editor, corpus):
    draft = make_article("Draft", "body", language="en", status="draft")
    changelist = reverse("admin:knowledge_article_changelist")
    editor.post(changelist, {"action": "publish_selected", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == ArticleStatus.PUBLISHED
    editor.post(changelist, {"action": "archive_selected", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == ArticleStatus.ARCHIVED
    actions = set(AuditEvent.objects.filter(object_id=str(draft.pk)).values_list("action", flat=True))
    assert {"kb_article.publish", "kb_article.archive"} <= actions


@pytest.mark.django_db
def test_categories_are_saved_through_the_service(editor, corpus):
    child = KbCategory.objects.get(slug="recharge")
    data = {"name": "孙", "name_en": "Grandchild", "slug": "grandchild", "parent": child.pk, "position": 1}
    response = editor.post(reverse("admin:knowledge_kbcategory_add"), data)
    assert response.status_code == 200  # the parent is not offered: only top-level categories are
    data["parent"] = corpus.keys.pk
    assert editor.post(reverse("admin:knowledge_kbcategory_add"), data).status_code == 302
    assert AuditEvent.objects.filter(action="kb_category.create", object_repr__contains="孙").exists()


@pytest.mark.django_db
def test_report_lists_zero_result_searches_and_least_helpful_articles(editor, corpus):
    for n in range(3):
        services.search_log_record(query="开发票", language="zh-hans", result_count=0, session_key_hash=f"s{n}")
        services.feedback_record(article=corpus.redeem_en, helpful=False, session_key_hash=f"v{n}")
    services.feedback_record(article=corpus.invalid_en, helpful=True, session_key_hash="v9")
    html = editor.get(reverse("admin:knowledge_searchlog_report")).content.decode()
    assert "开发票" in html and corpus.redeem_en.title in html
    assert corpus.invalid_en.title not in html  # one vote: below the threshold


@pytest.mark.django_db
def test_merchants_and_anonymous_users_get_no_kb_admin(client, shop, corpus):
    client.force_login(make_merchant(shop))
    assert client.get(reverse("admin:knowledge_article_changelist")).status_code == 403
    assert client.get(reverse("admin:knowledge_searchlog_report")).status_code == 403
    client.logout()
    assert client.get(reverse("admin:knowledge_searchlog_report")).status_code == 302  # to the login page
    assert not SearchClick.objects.exists()
