"""Search (knowledge.selectors.kb_search): relevance in Chinese and English, typos, learning from clicks,
and visibility (drafts, schedules, archives, other shops never appear)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from knowledge import search, selectors, services
from knowledge.models import KbWord, SearchSource
from tests.factories import ShopFactory
from tests.knowledge.conftest import hidden_article_variants, make_article


def titles(query: str, language: str, **kwargs) -> list[str]:
    return [hit.title for hit in selectors.kb_search(query, language=language, **kwargs).hits]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "language", "expected"),
    [
        ("卡密无效", "zh-hans", "卡密无效或提示已被使用怎么办"),
        ("卡密无效怎么办", "zh-hans", "卡密无效或提示已被使用怎么办"),
        ("card key invalid", "en", "Card key invalid or already used"),
        ("invalid card keys", "en", "Card key invalid or already used"),
        ("退款", "zh-hans", "退款政策：哪些情况可以退款"),
        ("refund", "en", "Refund policy: when you can get a refund"),
        ("refunds", "en", "Refund policy: when you can get a refund"),
        ("充值失败", "zh-hans", "充值失败怎么办"),
        ("recharge failed", "en", "Recharge failed: what to do"),
        ("付款成功未到账", "zh-hans", "付款成功但订单未到账"),
    ],
)
def test_named_queries_find_the_named_article_first(corpus, query, language, expected):
    assert titles(query, language)[0] == expected


@pytest.mark.django_db
def test_results_are_in_the_asked_language_and_fall_back_to_the_query_language(corpus):
    zh = selectors.kb_search("卡密无效", language="zh-hans")
    assert {hit.language for hit in zh.hits} == {"zh-hans"}
    # An English query on the Chinese help centre: nothing in Chinese has these words, the English article does.
    crossed = selectors.kb_search("card key invalid", language="zh-hans")
    assert crossed.results_language == "en"
    assert crossed.hits[0].title == "Card key invalid or already used"


@pytest.mark.django_db
def test_chinese_snippets_mark_the_query_words(corpus):
    hit = selectors.kb_search("卡密无效", language="zh-hans").hits[0]
    assert "<mark>卡密无效</mark>" in hit.snippet_html
    assert "<mark>" not in hit.snippet and "卡密无效" in hit.snippet
    assert hit.title_html == "<mark>卡密无效</mark>或提示已被使用怎么办"


@pytest.mark.django_db
def test_english_snippets_mark_inflected_words(corpus):
    hit = selectors.kb_search("recharge fails", language="en").hits[0]
    assert "<mark>recharge</mark> <mark>failed</mark>" in hit.snippet_html


@pytest.mark.django_db
def test_snippets_escape_article_text(corpus):
    make_article("Angle <b>brackets</b> zebrafish", "Use <script>zebrafish</script> & friends", language="en")
    hit = selectors.kb_search("zebrafish", language="en").hits[0]
    assert "<script>" not in hit.snippet_html and "<b>" not in hit.title_html
    assert "&lt;b&gt;" in hit.title_html


@pytest.mark.django_db
def test_when_no_article_has_every_word_any_word_may_match(corpus):
    results = selectors.kb_search("refund zeppelin", language="en")
    assert results.loosened
    assert results.hits[0].title == "Refund policy: when you can get a refund"


@pytest.mark.django_db
def test_a_typo_gets_a_did_you_mean_suggestion(corpus):
    results = selectors.kb_search("recharge faild", language="en")
    assert results.did_you_mean == "recharge failed"
    assert selectors.kb_search("recharge failed", language="en").did_you_mean is None
    assert search.did_you_mean("Refnd policy") == "refund policy"


@pytest.mark.django_db
def test_a_chinese_typo_gets_a_suggestion(corpus):
    assert search.did_you_mean("卡蜜无效") == "卡密无效"


@pytest.mark.django_db
def test_inflections_and_unknown_words_without_neighbours_get_no_suggestion(corpus):
    assert search.did_you_mean("refunds") is None  # same stem as "refund": same results
    assert search.did_you_mean("xylophone") is None


@pytest.mark.django_db
def test_vocabulary_follows_published_text(corpus):
    assert KbWord.objects.get(word="failed", language="en").frequency >= 2
    draft = make_article("Quokkaword draft", "quokkaword quokkaword", language="en", status="draft")
    assert not KbWord.objects.filter(word="quokkaword").exists()
    services.article_publish(actor=None, article=draft)
    assert KbWord.objects.get(word="quokkaword", language="en").frequency == 3
    services.article_archive(actor=None, article=draft)
    assert not KbWord.objects.filter(word="quokkaword").exists()


def _click(query: str, article, session: str) -> None:
    log = services.search_log_record(
        query=query, language=article.language, result_count=2, source=SearchSource.PAGE, session_key_hash=session
    )
    services.search_click_record(log_id=log.pk, article=article)


@pytest.mark.django_db
def test_ranking_learns_from_clicks(corpus):
    assert titles("refund", "en")[:2] == [corpus.refund_policy_en.title, corpus.refund_time_en.title]
    for n in range(6):
        _click("Refund", corpus.refund_time_en, session=f"s{n}")
    assert titles("refund", "en")[0] == corpus.refund_time_en.title
    # The boost belongs to that query: other queries rank as before.
    assert titles("refund policy", "en")[0] == corpus.refund_policy_en.title


@pytest.mark.django_db
def test_one_session_clicking_again_does_not_add_to_the_boost(corpus):
    for _ in range(6):
        _click("refund", corpus.refund_time_en, session="same-session")
    assert titles("refund", "en")[0] == corpus.refund_policy_en.title


@pytest.mark.django_db
def test_decay_halves_the_learned_boost(corpus):
    for n in range(6):
        _click("refund", corpus.refund_time_en, session=f"d{n}")
    for _ in range(4):
        services.search_clicks_decay()
    assert titles("refund", "en")[0] == corpus.refund_policy_en.title


@pytest.mark.django_db
def test_hidden_articles_never_appear_in_search_or_suggestions(corpus, shop, other_shop):
    hidden_article_variants(shop, other_shop)
    own = make_article("zebrakey own shop", "The zebrakey article body.", language="en", shop=shop)
    assert titles("zebrakey", "en", shop=shop) == [own.title]
    assert [s["title"] for s in selectors.kb_suggest("zebrak", "en", shop=shop)] == [own.title]
    assert titles("zebrakey", "en", shop=None) == []  # no shop: global articles only
    assert titles("zebrakey", "en", shop=other_shop) == ["zebrakey other shop"]


@pytest.mark.django_db
def test_scheduled_articles_appear_when_their_time_comes_without_any_job(corpus, monkeypatch):
    scheduled = make_article(
        "Walrusword", "walrusword text", language="en", publish_at=timezone.now() + timedelta(hours=1)
    )
    assert titles("walrusword", "en") == []
    later = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert titles("walrusword", "en") == [scheduled.title]


@pytest.mark.django_db
def test_common_words_rank_a_capped_candidate_set(corpus, monkeypatch):
    monkeypatch.setattr(search, "CANDIDATE_CAP", 3)
    monkeypatch.setattr(search, "TITLE_CAP", 1)
    for n in range(6):
        make_article(f"Walrus {n}", "walrus walrus", language="en")
    results = selectors.kb_search("walrus", language="en")
    assert results.total <= 4 and results.capped


@pytest.mark.django_db
def test_stop_words_only_and_punctuation_find_nothing_without_error(corpus):
    assert selectors.kb_search("的 了 吗", language="zh-hans").hits == []
    assert selectors.kb_search("?!'&|:*()", language="en").hits == []
    assert selectors.kb_search("the and of", language="en").hits == []


@pytest.mark.django_db
def test_suggest_matches_the_word_being_typed(corpus):
    suggestions = selectors.kb_suggest("recharge fa", "en")
    assert suggestions[0]["title"] == "Recharge failed: what to do"
    assert set(suggestions[0]) >= {"id", "title", "snippet", "url"}
    assert suggestions[0]["url"] == corpus.recharge_en.get_absolute_url()


@pytest.mark.django_db
def test_a_second_shop_with_its_own_article(corpus):
    shop = ShopFactory()
    own = make_article("退款 专属说明", "本店退款说明", shop=shop)
    assert own.title in titles("退款", "zh-hans", shop=shop)
    assert own.title not in titles("退款", "zh-hans")
