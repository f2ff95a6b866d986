"""POST /help/search/outcome/ (help:search-outcome): the contract in knowledge/views/beacon.py."""

from __future__ import annotations

import json
import time

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from knowledge import services, tracking
from knowledge.models import SearchClick, SearchLog

URL = "/help/search/outcome/"


def post_json(client: Client, payload: dict, **extra) -> dict:
    response = client.post(URL, json.dumps(payload), content_type="application/json", **extra)
    return {"status": response.status_code, **response.json()}


@pytest.fixture
def logs(db):
    return [
        services.search_log_record(query=f"query {n}", language="en", result_count=1, session_key_hash=f"someone-{n}")
        for n in range(3)
    ]


@pytest.mark.django_db
def test_url_name_and_path():
    assert reverse("help:search-outcome") == URL


@pytest.mark.django_db
def test_signed_tokens_need_no_csrf(logs):
    strict = Client(enforce_csrf_checks=True)
    tokens = [tracking.log_token(log.pk) for log in logs[:2]]
    assert post_json(strict, {"log_ids": tokens, "outcome": "ticket"}) == {"status": 200, "updated": 2, "ignored": 0}
    assert post_json(strict, {"log_ids": tokens, "outcome": "ticket"})["updated"] == 0  # idempotent
    assert list(SearchLog.objects.filter(led_to_ticket=True).values_list("pk", flat=True).order_by("pk")) == [
        logs[0].pk,
        logs[1].pk,
    ]


@pytest.mark.django_db
def test_forged_malformed_and_expired_tokens_are_ignored(logs, monkeypatch):
    forged = f"{logs[0].pk}:1abc:forged"
    real_time = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 2 * 24 * 3600)
    expired = tracking.log_token(logs[1].pk)
    monkeypatch.setattr(signing.time, "time", real_time)
    body = post_json(Client(), {"log_ids": [forged, "garbage", expired], "outcome": "deflected"})
    assert body == {"status": 200, "updated": 0, "ignored": 3}
    assert not SearchLog.objects.filter(deflected=True).exists()


@pytest.mark.django_db
def test_sendbeacon_style_text_body_and_no_trailing_slash(logs):
    client = Client(enforce_csrf_checks=True)
    body = json.dumps({"log_ids": [tracking.log_token(logs[0].pk)], "outcome": "deflected"})
    response = client.post(URL.rstrip("/"), body, content_type="text/plain;charset=UTF-8")
    assert response.status_code == 200 and response.json()["updated"] == 1


@pytest.mark.django_db
def test_form_encoded_with_comma_separated_tokens(logs):
    tokens = ",".join(tracking.log_token(log.pk) for log in logs)
    response = Client().post(URL, {"log_ids": tokens, "outcome": "ticket"})
    assert response.json() == {"updated": 3, "ignored": 0}


@pytest.mark.django_db
def test_integer_ids_need_csrf_and_count_only_the_callers_own_searches(corpus, logs):
    browser = Client(enforce_csrf_checks=True)
    browser.get(reverse("help:home"))  # session and CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    own = browser.get("/api/v1/kb/suggest", {"q": "refund", "lang": "en"}).json()["log_id"]
    payload = {"log_ids": [own, logs[0].pk], "outcome": "ticket"}
    refused = post_json(browser, payload)
    assert refused["status"] == 403 and "csrf" in refused["errors"]
    assert post_json(browser, payload, HTTP_X_CSRFTOKEN=csrf) == {"status": 200, "updated": 1, "ignored": 1}
    assert SearchLog.objects.get(pk=own).led_to_ticket and not SearchLog.objects.get(pk=logs[0].pk).led_to_ticket


@pytest.mark.django_db
def test_a_click_names_a_visible_article_and_teaches_the_ranking(corpus, logs):
    token = tracking.log_token(logs[0].pk)
    missing = post_json(Client(), {"log_ids": [token], "outcome": "click"})
    assert missing["status"] == 400 and "article" in missing["errors"]
    article = corpus.refund_time_en
    body = post_json(Client(), {"log_ids": [token], "outcome": "click", "article": article.pk})
    assert body["updated"] == 1
    assert SearchLog.objects.get(pk=logs[0].pk).clicked_article_id == article.pk
    assert SearchClick.objects.get(article=article, normalised_query="query 0").clicks == 1


@pytest.mark.django_db
def test_deflected_with_the_article_that_answered(corpus, logs):
    token = tracking.log_token(logs[0].pk)
    post_json(Client(), {"log_ids": [token], "outcome": "deflected", "article": corpus.refund_policy_en.pk})
    log = SearchLog.objects.get(pk=logs[0].pk)
    assert log.deflected and log.clicked_article_id == corpus.refund_policy_en.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"outcome": "ticket"}, "log_ids"),
        ({"log_ids": [], "outcome": "ticket"}, "log_ids"),
        ({"log_ids": "abc", "outcome": "ticket"}, "log_ids"),
        ({"log_ids": [None], "outcome": "ticket"}, "log_ids"),
        ({"log_ids": ["a"] * 21, "outcome": "ticket"}, "log_ids"),
        ({"log_ids": ["a"], "outcome": "maybe"}, "outcome"),
    ],
)
def test_malformed_bodies_name_the_field(db, payload, field):
    body = post_json(Client(), payload)
    assert body["status"] == 400 and field in body["errors"]


@pytest.mark.django_db
def test_not_json_and_not_post():
    response = Client().post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert Client().get(URL).status_code == 405
