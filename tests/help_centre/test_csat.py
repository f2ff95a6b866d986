"""Satisfaction ratings: range, comment, credit to the solving agent and queue, the update window, the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from helpdesk.models import AuditEvent
from tests.factories import make_agent, make_ticket
from tests.help_centre.conftest import CARD_KEYS
from tickets import services
from tickets.errors import InvalidInput, InvalidTransition
from tickets.models import CsatResponse, Status
from tickets.services.csat import csat_record
from tickets.services.tracking import tracking_token_issue


@pytest.fixture
def solved(shop, queue, order, agent):
    ticket = make_ticket(shop=shop, queue=queue, customer=order.customer, order=order)
    services.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    services.agent_reply_post(ticket=ticket, actor=agent, body="已补发")
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.SOLVED)
    ticket.refresh_from_db()
    return ticket


@pytest.mark.django_db
@pytest.mark.parametrize("score", [0, 6, -1, "x", None])
def test_score_outside_one_to_five_is_refused(solved, score):
    with pytest.raises(InvalidInput) as error:
        csat_record(ticket=solved, actor=None, score=score)
    assert error.value.field == "score" and "1 to 5" in error.value.message
    assert not CsatResponse.objects.exists()


@pytest.mark.django_db
def test_rating_is_stored_on_ticket_credited_to_agent_and_queue_and_audited(solved, agent, queue):
    response = csat_record(ticket=solved, actor=None, score=4, comment="很快，卡密 " + CARD_KEYS[0] + " 已可用")
    assert (response.score, response.agent, response.queue) == (4, agent, queue)
    assert CARD_KEYS[0] not in response.comment and "STEAM-****-****-CCCC" in response.comment
    solved.refresh_from_db()
    assert (solved.csat_score, solved.csat_comment) == (4, response.comment)
    event = AuditEvent.objects.get(action="ticket.csat_recorded")
    assert event.changes == {"score": 4, "comment": True}


@pytest.mark.django_db
def test_credit_stays_with_the_solving_agent_when_updated(solved, agent, queue):
    csat_record(ticket=solved, actor=None, score=2)
    other = make_agent(queue, username="agent-b")
    services.ticket_assign(ticket=solved, actor=other, assignee=other)
    updated = csat_record(ticket=solved, actor=None, score=5, comment="后来解决了")
    assert (updated.score, updated.agent) == (5, agent)
    assert CsatResponse.objects.count() == 1
    assert AuditEvent.objects.get(action="ticket.csat_updated").changes == {"score": [2, 5], "comment": True}


@pytest.mark.django_db
def test_second_rating_after_the_window_is_refused_clearly(solved, settings):
    first = csat_record(ticket=solved, actor=None, score=3)
    CsatResponse.objects.filter(pk=first.pk).update(created_at=first.created_at - timedelta(days=7, seconds=1))
    with pytest.raises(InvalidTransition) as error:
        csat_record(ticket=solved, actor=None, score=5)
    assert "can no longer be changed" in error.value.message
    assert CsatResponse.objects.get().score == 3
    settings.CSAT_UPDATE_DAYS = 30
    assert csat_record(ticket=solved, actor=None, score=5).score == 5


@pytest.mark.django_db
def test_an_unsolved_ticket_cannot_be_rated(ticket):
    with pytest.raises(InvalidTransition):
        csat_record(ticket=ticket, actor=None, score=5)


@pytest.mark.django_db
def test_comment_length_is_limited(solved):
    with pytest.raises(InvalidInput) as error:
        csat_record(ticket=solved, actor=None, score=5, comment="x" * 2001)
    assert error.value.field == "comment"


@pytest.mark.django_db
def test_a_portal_user_may_rate_only_their_own_ticket(solved, shop):
    from tests.factories import make_user
    from tickets.errors import NotVisible

    with pytest.raises(NotVisible):
        csat_record(ticket=solved, actor=make_user(username="someone"), score=5)


@pytest.mark.django_db
def test_rate_page_flow_prefill_submit_update_and_final(client, solved, agent):
    token = tracking_token_issue(ticket=solved)
    rate_url = reverse("help:rate", args=[token])
    page = client.get(rate_url + "?score=5")
    assert page.status_code == 200 and page.context["form"].initial["score"] == 5
    assert 'value="5"' in page.content.decode()

    bad = client.post(rate_url, {"score": "9", "comment": "keep this"})
    assert bad.status_code == 400
    assert bad.context["form"].errors == {"score": ["Choose a score from 1 to 5."]}
    html = bad.content.decode()
    assert "keep this" in html and 'aria-describedby="id_score_error"' in html

    done = client.post(rate_url, {"score": "4", "comment": "不错"})
    assert done.status_code == 302 and done["Location"] == reverse("help:track", args=[token])
    event = AuditEvent.objects.get(action="ticket.csat_recorded")
    assert event.actor is None and event.actor_label == f"customer:{solved.customer_id}"
    assert "You rated our help 4 out of 5" in client.get(done["Location"]).content.decode()

    again = client.get(rate_url)
    assert "You can change it until" in again.content.decode()
    client.post(rate_url, {"score": "5"})
    assert CsatResponse.objects.get().score == 5

    CsatResponse.objects.update(created_at=CsatResponse.objects.get().created_at - timedelta(days=8))
    final = client.get(rate_url).content.decode()
    assert 'id="rate-final"' in final and 'id="rate-form"' not in final
    refused = client.post(rate_url, {"score": "1"})
    assert "can no longer be changed" in refused.context["form"].errors["score"][0]
    assert CsatResponse.objects.get().score == 5


@pytest.mark.django_db
def test_rate_page_before_solve_explains(client, ticket):
    html = client.get(reverse("help:rate", args=[tracking_token_issue(ticket=ticket)])).content.decode()
    assert 'id="rate-closed"' in html
