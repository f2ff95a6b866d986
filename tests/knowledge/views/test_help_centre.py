"""Help-centre KB pages: they render, show only what is visible, write their traces, and keep query counts flat."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from knowledge import tracking
from knowledge.models import Article, ArticleFeedback, SearchClick, SearchLog
from tests.knowledge.conftest import hidden_article_variants, make_article


@pytest.fixture
def reader(client, shop, corpus):
    """A visitor whose session already exists (the first page of a visit creates it)."""
    client.get(reverse("help:home"))
    return client


def zh(client):
    client.cookies["django_language"] = "zh-hans"
    return client


def en(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.mark.django_db
def test_home_shows_search_categories_popular_and_contact(reader, corpus, django_assert_num_queries):
    with django_assert_num_queries(5):  # session, shop, categories with counts, popular articles, chat widget
        response = zh(reader).get(reverse("help:home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'action="/help/search/"' in html and 'name="q"' in html
    assert corpus.keys.get_absolute_url() in html and "卡密问题" in html
    assert reverse("help:contact") in html
    assert 'data-suggest-url="/api/v1/kb/suggest"' in html


@pytest.mark.django_db
def test_home_in_english_lists_english_names(reader, corpus):
    html = en(reader).get(reverse("help:home")).content.decode()
    assert "Card keys" in html and "卡密问题" not in html
    assert "Card key invalid or already used" in html or "Refund policy" in html


@pytest.mark.django_db
def test_category_page_lists_its_and_its_childrens_articles(reader, corpus, django_assert_num_queries):
    url = corpus.money.get_absolute_url()
    with django_assert_num_queries(6):  # session, shop, category, children, articles, chat widget
        response = zh(reader).get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "退款政策" in html and "充值失败怎么办" in html  # the latter in the child category
    assert "Refund policy" not in html
    assert reader.get("/help/categories/no-such/").status_code == 404


@pytest.mark.django_db
def test_article_page_renders_body_related_translations_and_vote(reader, corpus, django_assert_num_queries):
    article = corpus.invalid_zh
    with django_assert_num_queries(8):  # session, shop, article, views + 1, vote, related, translations, chat widget
        response = zh(reader).get(article.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>卡密无效</strong>" in html
    assert corpus.invalid_en.get_absolute_url() in html  # the translation
    assert reverse("help:article-vote", args=[article.pk]) in html
    assert reverse("help:contact") in html
    assert Article.objects.get(pk=article.pk).view_count == 1
    # The short URL and a wrong slug show the same article.
    assert reader.get(f"/help/articles/{article.pk}/").status_code == 200
    assert reader.get(f"/help/articles/{article.pk}-wrong/").status_code == 200


@pytest.mark.django_db
def test_hidden_articles_answer_404(reader, shop, other_shop):
    for article in hidden_article_variants(shop, other_shop).values():
        assert reader.get(article.get_absolute_url()).status_code == 404, article.title
        assert reader.post(reverse("help:article-vote", args=[article.pk]), {"helpful": "yes"}).status_code == 404
    assert reader.get("/help/articles/999999/").status_code == 404


@pytest.mark.django_db
def test_voting_once_per_session_then_adding_a_comment(reader, corpus):
    article = corpus.refund_policy_zh
    url = reverse("help:article-vote", args=[article.pk])
    response = reader.post(url, {"helpful": "no"})
    assert response.status_code == 302 and response["Location"].endswith("#feedback")
    reader.post(url, {"helpful": "yes"})  # a repeat: ignored
    reader.post(url, {"helpful": "no", "comment": "没写多久到账"})
    stored = Article.objects.get(pk=article.pk)
    assert (stored.helpful_yes, stored.helpful_no) == (0, 1)
    assert ArticleFeedback.objects.get(article=article).comment == "没写多久到账"
    html = reader.get(article.get_absolute_url()).content.decode()
    assert "data-kb-vote" not in html  # the vote form is gone for this session


@pytest.mark.django_db
def test_voting_with_json_and_bad_input(reader, corpus):
    url = reverse("help:article-vote", args=[corpus.refund_policy_en.pk])
    response = reader.post(url, {"helpful": "yes"}, HTTP_ACCEPT="application/json")
    assert response.json() == {"recorded": True, "helpful": True, "commented": False}
    again = reader.post(url, {"helpful": "yes"}, HTTP_ACCEPT="application/json")
    assert again.json()["recorded"] is False
    bad = reader.post(url, {"helpful": "maybe"}, HTTP_ACCEPT="application/json")
    assert bad.status_code == 400 and "helpful" in bad.json()["errors"]
    assert reader.get(url).status_code == 405


@pytest.mark.django_db
def test_voting_needs_csrf(client, corpus):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("help:article-vote", args=[corpus.refund_policy_en.pk]), {"helpful": "yes"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_search_page_shows_marked_snippets_and_logs_the_search(reader, corpus, django_assert_num_queries):
    # session, shop, ranked hits, known words ("did you mean"), the log: collapse check + insert (inside a
    # savepoint under the test's transaction: +2 statements; production runs SET LOCAL synchronous_commit)
    with django_assert_num_queries(9):  # + chat widget
        response = zh(reader).get(reverse("help:search"), {"q": "卡密无效"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<mark>卡密" in html
    log = SearchLog.objects.get()
    assert (log.query, log.normalised_query, log.result_count, log.source) == ("卡密无效", "卡密无效", 3, "page")
    token = re.search(r'href="/help/articles/\d+-[\w-]+/\?s=([^"]+)"', html).group(1)
    assert tracking.log_id_from_token(token.replace("%3A", ":")) == log.pk


@pytest.mark.django_db
def test_opening_a_result_records_the_click_and_teaches_the_ranking(reader, corpus):
    html = en(reader).get(reverse("help:search"), {"q": "refund"}).content.decode()
    links = re.findall(r'href="(/help/articles/\d+-[\w-]+/\?s=[^"]+)"', html)
    assert len(links) >= 2
    reader.get(links[1].replace("&amp;", "&"))
    log = SearchLog.objects.get()
    assert log.clicked_article_id is not None
    assert SearchClick.objects.get().article_id == log.clicked_article_id


@pytest.mark.django_db
def test_search_page_offers_did_you_mean_and_contact_when_nothing_matches(reader, corpus):
    html = en(reader).get(reverse("help:search"), {"q": "recharge faild"}).content.decode()
    assert "Did you mean" in html and "/help/search/?q=recharge+failed" in html
    nothing = reader.get(reverse("help:search"), {"q": "zzqqxx"}).content.decode()
    assert "No articles match" in nothing and reverse("help:contact") in nothing
    assert SearchLog.objects.filter(result_count=0).count() == 1


@pytest.mark.django_db
def test_empty_search_page_renders_without_logging(reader, corpus):
    assert reader.get(reverse("help:search")).status_code == 200
    assert reader.get(reverse("help:search"), {"q": "  "}).status_code == 200
    assert not SearchLog.objects.exists()


@pytest.mark.django_db
def test_other_shops_articles_are_not_listed(client, shop, other_shop, corpus):
    make_article("别家店的专属文章", "正文", shop=other_shop)
    mine = make_article("本店专属文章", "正文", shop=shop)
    html = zh(client).get(reverse("help:home") + f"?shop={shop.slug}").content.decode()
    home_category = zh(client).get(corpus.keys.get_absolute_url()).content.decode()
    assert "别家店的专属文章" not in html + home_category
    assert mine.title in home_category
