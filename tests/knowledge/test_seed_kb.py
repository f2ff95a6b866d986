"""`manage.py seed_kb`: ≥40 published zh/en articles linked as translations, covering the trade's topics."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count

from helpdesk.audit import audit_chain_verify
from helpdesk.models import AuditEvent
from knowledge import selectors
from knowledge.models import Article, ArticleStatus, KbCategory


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the module inside a transaction rolled back afterwards (tests nest as savepoints)."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            out = io.StringIO()
            call_command("seed_kb", stdout=out)
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.mark.django_db
def test_at_least_forty_published_articles_in_linked_pairs(seeded):
    assert "44 articles created" in seeded
    published = Article.objects.filter(status=ArticleStatus.PUBLISHED)
    assert published.count() >= 40
    groups = published.values("translation_group").annotate(n=Count("id"), langs=Count("language", distinct=True))
    assert all(g["n"] == 2 and g["langs"] == 2 for g in groups)
    assert KbCategory.objects.filter(parent__isnull=False).exists()
    for article in published:
        minimum = 250 if article.language == "zh-hans" else 700  # several real paragraphs
        assert len(article.body_text) > minimum, article.title
        assert article.related.exists(), article.title
        assert article.search_vector is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "language", "expected_slug"),
    [
        ("付款成功未到账", "zh-hans", "paid-not-received"),
        ("重复扣款", "zh-hans", "double-charge"),
        ("charged twice", "en", "double-charge"),
        ("卡密未发货", "zh-hans", "card-key-not-delivered"),
        ("卡密无效", "zh-hans", "invalid-card-key"),
        ("card key invalid", "en", "invalid-card-key"),
        ("已被使用", "zh-hans", "invalid-card-key"),
        ("退款", "zh-hans", "refund-policy"),
        ("refund", "en", "refund-policy"),
        ("账号被盗", "zh-hans", "account-stolen"),
        ("account stolen", "en", "account-stolen"),
        ("商户结算", "zh-hans", "merchant-settlement"),
        ("寄售", "zh-hans", "consignment-how-it-works"),
        ("steam", "en", "redeem-steam"),
        ("apple gift card", "en", "redeem-apple"),
        ("google play", "en", "redeem-google-play"),
        ("王者荣耀点券", "zh-hans", "honor-of-kings-vouchers"),
        ("充值失败", "zh-hans", "recharge-failed"),
        ("recharge failed", "en", "recharge-failed"),
    ],
)
def test_the_demo_covers_the_trades_topics(seeded, query, language, expected_slug):
    hits = selectors.kb_search(query, language=language).hits
    assert hits and Article.objects.get(pk=hits[0].id).slug == expected_slug


@pytest.mark.django_db
def test_the_demo_typo_suggestion(seeded):
    assert selectors.kb_search("recharge faild", language="en").did_you_mean == "recharge failed"


@pytest.mark.django_db
def test_a_second_run_changes_nothing(seeded):
    before = (Article.objects.count(), KbCategory.objects.count(), AuditEvent.objects.count())
    out = io.StringIO()
    call_command("seed_kb", stdout=out)
    assert "nothing changed" in out.getvalue()
    assert (Article.objects.count(), KbCategory.objects.count(), AuditEvent.objects.count()) == before
    assert audit_chain_verify().ok


@pytest.mark.django_db
def test_a_changed_text_is_updated_and_audited(seeded):
    article = Article.objects.get(slug="refund-policy", language="en")
    Article.objects.filter(pk=article.pk).update(title="Old title")
    out = io.StringIO()
    call_command("seed_kb", stdout=out)
    assert "1 updated" in out.getvalue()
    event = AuditEvent.objects.filter(action="kb_article.update", object_id=str(article.pk)).get()
    assert event.actor_label == "seed_kb" and event.changes["title"][0] == "Old title"


@pytest.mark.django_db
def test_refuses_when_demo_data_is_not_allowed(db, settings):
    settings.DEMO_DATA_ALLOWED = False
    before = Article.objects.count()
    with pytest.raises(CommandError, match="DEMO_DATA_ALLOWED"):
        call_command("seed_kb", stdout=io.StringIO())
    assert Article.objects.count() == before
