"""Readers' traces (knowledge.services.telemetry): views, votes with their repeat guard, search logs, outcomes."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from knowledge import services
from knowledge.models import Article, ArticleFeedback, SearchClick, SearchLog, SearchSource
from tests.knowledge.conftest import make_article
from tickets.errors import InvalidInput

# --- readers' traces ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_views_increment_with_a_single_update(django_assert_num_queries):
    article = make_article("Views", "body", language="en")
    with django_assert_num_queries(1):
        services.article_view_record(article_id=article.pk)
    services.article_view_record(article_id=article.pk)
    assert Article.objects.get(pk=article.pk).view_count == 2


@pytest.mark.django_db
def test_one_vote_per_session_and_a_comment_may_follow():
    article = make_article("Votes", "body", language="en")
    first = services.feedback_record(article=article, helpful=False, session_key_hash="s1")
    again = services.feedback_record(article=article, helpful=True, session_key_hash="s1", comment="Missing X")
    other = services.feedback_record(article=article, helpful=True, session_key_hash="s2")
    assert first.created and not again.created and other.created
    stored = Article.objects.get(pk=article.pk)
    assert (stored.helpful_yes, stored.helpful_no) == (1, 1)
    feedback = ArticleFeedback.objects.get(session_key_hash="s1")
    assert feedback.helpful is False and feedback.comment == "Missing X"
    services.feedback_record(article=article, helpful=False, session_key_hash="s1", comment="changed my mind")
    assert ArticleFeedback.objects.get(session_key_hash="s1").comment == "Missing X"


@pytest.mark.django_db
def test_a_helpful_vote_after_a_search_marks_it_deflected():
    article = make_article("Deflect", "body", language="en")
    log = services.search_log_record(query="deflect", language="en", result_count=1, session_key_hash="s")
    services.feedback_record(article=article, helpful=True, session_key_hash="s", search_log_id=log.pk)
    assert SearchLog.objects.get(pk=log.pk).deflected


@pytest.mark.django_db
def test_keystrokes_of_one_session_collapse_into_one_search_log():
    for query in ("卡", "卡密", "卡密无", "卡密无效"):
        log = services.search_log_record(
            query=query, language="zh-hans", result_count=3, source=SearchSource.SUGGEST, session_key_hash="typist"
        )
    assert SearchLog.objects.filter(session_key_hash="typist").count() == 1
    assert log.normalised_query == "卡密无效"
    services.search_log_record(
        query="refund", language="zh-hans", result_count=0, source=SearchSource.SUGGEST, session_key_hash="typist"
    )
    services.search_log_record(
        query="refund", language="zh-hans", result_count=0, source=SearchSource.SUGGEST, session_key_hash="other"
    )
    assert SearchLog.objects.count() == 3


@pytest.mark.django_db
def test_a_reload_of_the_same_results_page_is_one_search():
    for _ in range(3):
        services.search_log_record(query="Refund", language="en", result_count=2, session_key_hash="reader")
    services.search_log_record(query="refund policy", language="en", result_count=1, session_key_hash="reader")
    assert SearchLog.objects.count() == 2


@pytest.mark.django_db
def test_outcomes_are_idempotent_and_a_ticket_outranks_a_deflection():
    article = make_article("Outcome", "body", language="en")
    logs = [
        services.search_log_record(query=f"q{n}", language="en", result_count=1, session_key_hash=f"s{n}")
        for n in range(3)
    ]
    ids = [log.pk for log in logs]
    assert services.search_outcome_record(log_ids=ids[:2], outcome="deflected") == 2
    assert services.search_outcome_record(log_ids=ids[:2], outcome="deflected") == 0
    assert services.search_outcome_record(log_ids=ids[1:], outcome="ticket") == 2
    assert services.search_outcome_record(log_ids=ids[1:], outcome="ticket") == 0
    assert services.search_outcome_record(log_ids=ids[1:], outcome="deflected") == 0
    states = dict(SearchLog.objects.values_list("pk", "led_to_ticket"))
    assert states == {ids[0]: False, ids[1]: True, ids[2]: True}
    assert not SearchLog.objects.filter(led_to_ticket=True, deflected=True).exists()
    assert services.search_outcome_record(log_ids=ids[:1], outcome="click", article=article) == 1
    assert SearchClick.objects.get(article=article).clicks == 1
    with pytest.raises(InvalidInput):
        services.search_outcome_record(log_ids=ids, outcome="click")


@pytest.mark.django_db(transaction=True)
def test_a_search_log_of_its_own_commits_asynchronously_but_never_a_callers_transaction():
    with CaptureQueriesContext(connection) as own:
        services.search_log_record(query="refund", language="en", result_count=1, session_key_hash="own")
    assert any("synchronous_commit" in q["sql"] for q in own.captured_queries)
    with transaction.atomic(), CaptureQueriesContext(connection) as nested:
        services.search_log_record(query="refund", language="en", result_count=1, session_key_hash="nested")
    assert not any("synchronous_commit" in q["sql"] for q in nested.captured_queries)
    assert SearchLog.objects.count() == 2
