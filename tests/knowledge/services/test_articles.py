"""Editorial writes (knowledge.services.articles): articles and categories, validated, rendered, indexed, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from helpdesk.audit import audit_chain_verify
from helpdesk.models import AuditEvent
from knowledge import services
from knowledge.models import Article, ArticleStatus
from tests.knowledge.conftest import make_article, make_category
from tickets.errors import InvalidInput


def events(article: Article) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="knowledge.article", object_id=str(article.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


# --- articles -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_saving_renders_sanitised_html_and_plain_text():
    article = make_article(
        "标题", "**粗体** <script>alert(1)</script> [x](javascript:alert(1)) [ok](https://a.example)"
    )
    assert "<strong>粗体</strong>" in article.body_html
    assert "script" not in article.body_html and "javascript" not in article.body_html
    assert 'rel="noopener noreferrer"' in article.body_html
    assert article.body_text.startswith("粗体")
    stored = Article.objects.get(pk=article.pk)
    assert stored.search_vector and stored.title_vector


@pytest.mark.django_db
def test_create_update_publish_archive_are_audited_with_what_changed():
    article = make_article("Draft title", "body", language="en", status=ArticleStatus.DRAFT)
    services.article_save(
        actor=None, article=article, category=article.category, language="en", title="New title", body="body"
    )
    services.article_save(
        actor=None, article=article, category=article.category, language="en", title="New title", body="body"
    )  # nothing changed: no event
    services.article_publish(actor=None, article=article)
    services.article_archive(actor=None, article=article)
    assert events(article) == ["kb_article.create", "kb_article.update", "kb_article.publish", "kb_article.archive"]
    update = AuditEvent.objects.get(action="kb_article.update", object_id=str(article.pk))
    assert update.changes == {"title": ["Draft title", "New title"], "slug": ["draft-title", "new-title"]}
    assert audit_chain_verify().ok


@pytest.mark.django_db
def test_published_without_a_time_is_published_now_and_a_future_time_schedules():
    now = timezone.now()
    article = make_article("Now", "body", language="en")
    assert now - timedelta(seconds=5) <= article.publish_at <= timezone.now()
    later = now + timedelta(days=1)
    scheduled = make_article("Later", "body", language="en", publish_at=later)
    assert scheduled.publish_at == later and scheduled.status == ArticleStatus.PUBLISHED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"body": " "}, "body"),
        ({"language": "fr"}, "language"),
        ({"status": "gone"}, "status"),
    ],
)
def test_invalid_input_names_the_field(overrides, field):
    values = {"category": make_category(), "language": "en", "title": "T", "body": "B", **overrides}
    with pytest.raises(InvalidInput) as raised:
        services.article_save(actor=None, **values)
    assert raised.value.field == field


@pytest.mark.django_db
def test_translations_share_a_group_with_one_article_per_language():
    zh = make_article("卡密无效", "正文")
    en = make_article("Invalid key", "body", language="en", translation_of=zh)
    assert en.translation_group == zh.translation_group
    with pytest.raises(InvalidInput) as raised:
        make_article("Another English one", "body", language="en", translation_of=zh)
    assert raised.value.field == "language"


@pytest.mark.django_db
def test_editing_keeps_view_and_vote_counters_that_arrived_meanwhile():
    article = make_article("Counters", "body", language="en")
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 7, helpful_yes=3)
    services.article_save(
        actor=None, article=article, category=article.category, language="en", title="Counters 2", body="body"
    )
    stored = Article.objects.get(pk=article.pk)
    assert (stored.view_count, stored.helpful_yes, stored.title) == (7, 3, "Counters 2")


@pytest.mark.django_db
def test_related_articles_are_symmetrical_and_audited():
    a = make_article("A", "a", language="en")
    b = make_article("B", "b", language="en")
    services.article_related_set(actor=None, article=a, related=[b, a])
    assert list(b.related.all()) == [a] and list(a.related.all()) == [b]
    assert events(a)[-1] == "kb_article.related"


# --- categories ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_categories_nest_one_level_only():
    top = make_category("top", "顶级", "Top")
    child = make_category("child", "子类", "Child", parent=top)
    with pytest.raises(InvalidInput) as raised:
        services.category_save(actor=None, name="孙", name_en="Grandchild", slug="grandchild", parent=child)
    assert raised.value.field == "parent"
    other = make_category("other", "其他", "Other")
    with pytest.raises(InvalidInput):  # a category with children cannot get a parent
        services.category_save(actor=None, category=top, name="顶级", name_en="Top", slug="top", parent=other)


@pytest.mark.django_db
def test_renaming_a_category_reindexes_its_articles():
    category = make_category("gifts", "礼品", "Gifts")
    article = make_article("Card", "body", language="en", category=category)
    services.category_save(actor=None, category=category, name="礼品", name_en="Vouchers", slug="gifts")
    assert Article.objects.filter(pk=article.pk, search_vector="voucher").exists()
    assert AuditEvent.objects.filter(action="kb_category.update", object_id=str(category.pk)).exists()
