"""Logged-in customers: "my tickets" lists their own tickets and opens them without a token."""

from __future__ import annotations

import pytest
from django.urls import reverse

from helpdesk.models import AuditEvent
from tests.factories import make_customer, make_ticket, make_user
from tickets import services
from tickets.models import Message, Status

MY = reverse("help:my-tickets")


@pytest.fixture
def portal(shop, queue):
    user = make_user(username="customer1")
    customer = make_customer(shop, user=user, name="李四", email="lisi@example.com")
    mine = make_ticket(shop=shop, queue=queue, customer=customer, subject="我的工单")
    other_user = make_user(username="customer2")
    other = make_customer(shop, user=other_user, name="王五", email="wangwu@example.com")
    theirs = make_ticket(shop=shop, queue=queue, customer=other, subject="别人的工单")
    return user, mine, theirs


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(client, portal):
    _user, mine, _theirs = portal
    for path in (MY, reverse("help:my-ticket", args=[mine.reference])):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_list_shows_only_my_tickets_in_a_fixed_number_of_queries(client, portal, django_assert_num_queries):
    user, mine, theirs = portal
    client.force_login(user)
    client.get(MY)  # the help centre remembers its shop in the session once
    # session, user, agent profile (timezone middleware), tickets + shop, the help centre's shop
    with django_assert_num_queries(6):  # + the shop's chat widget (the embed tag in the layout)
        client.get(MY)
    for n in range(5):
        make_ticket(shop=mine.shop, customer=mine.customer, subject=f"更多 {n}")
    with django_assert_num_queries(6):  # + the shop's chat widget (the embed tag in the layout)
        response = client.get(MY)
    html = response.content.decode()
    assert "我的工单" in html and mine.reference in html
    assert "别人的工单" not in html and theirs.reference not in html
    assert html.count("<tr>") == 1 + 6


@pytest.mark.django_db
def test_open_reply_and_solve_my_ticket_without_a_token(client, portal, agent):
    user, mine, _theirs = portal
    services.internal_note_post(ticket=mine, actor=agent, body="备注不可见")
    client.force_login(user)
    page = client.get(reverse("help:my-ticket", args=[mine.reference]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "我的工单" in html and "备注不可见" not in html
    assert f'action="{reverse("help:my-ticket-reply", args=[mine.reference])}"' in html

    client.post(reverse("help:my-ticket-reply", args=[mine.reference]), {"body": "补充信息", "client_msg_id": "p1"})
    reply = Message.objects.get(ticket=mine, client_msg_id="p1")
    assert reply.author == user
    assert AuditEvent.objects.filter(action="ticket.customer_message", actor=user).exists()

    response = client.post(reverse("help:my-ticket-solve", args=[mine.reference]))
    assert response["Location"] == reverse("help:my-ticket-rate", args=[mine.reference])
    mine.refresh_from_db()
    assert mine.status == Status.SOLVED
    assert AuditEvent.objects.get(action="ticket.status").actor == user

    client.post(reverse("help:my-ticket-rate", args=[mine.reference]), {"score": "5"})
    mine.refresh_from_db()
    assert mine.csat_score == 5


@pytest.mark.django_db
def test_another_customers_ticket_is_not_found(client, portal):
    user, _mine, theirs = portal
    client.force_login(user)
    for name in ("my-ticket", "my-ticket-rate"):
        response = client.get(reverse(f"help:{name}", args=[theirs.reference]))
        assert response.status_code == 404
        assert "别人的工单" not in response.content.decode()
    missing = client.get(reverse("help:my-ticket", args=["T-999999"]))
    assert missing.status_code == 404
    assert client.post(reverse("help:my-ticket-reply", args=[theirs.reference]), {"body": "x"}).status_code == 404
    assert client.post(reverse("help:my-ticket-solve", args=[theirs.reference])).status_code == 404
    assert not Message.objects.filter(ticket=theirs, seq__gt=1).exists()


@pytest.mark.django_db
def test_a_desk_user_has_no_customer_tickets(client, portal, agent):
    _user, mine, _theirs = portal
    client.force_login(agent)
    html = client.get(MY).content.decode()
    assert mine.reference not in html
    assert client.get(reverse("help:my-ticket", args=[mine.reference])).status_code == 404
