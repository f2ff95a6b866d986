"""Policy scoping in the console: a ticket outside the user's reach is "not found" on every endpoint and absent from
every list, count and search; customers and anonymous users have no console at all."""

import pytest
from django.urls import reverse

from helpdesk.models import AuditEvent
from helpdesk.roles import Role
from tests.factories import make_customer, make_merchant, make_ticket, make_user
from tests.tickets.views.support import row_ids, view_counts
from tickets import services
from tickets.models import CannedReply, Message, Ticket
from tickets.views.ticket import ticket_version

INBOX = reverse("console:inbox")


@pytest.fixture
def hidden(shop, queue):
    """A ticket of the `queue` fixture with an order and a distinctive subject; `stranger` works another queue."""
    customer = make_customer(shop, name="隐藏客户", email="hidden@example.com", phone="13700001234")
    order = services.order_upsert(
        shop=shop, order_no="DD-HIDDEN-1", actor=None, customer=customer, card_keys=["AAAA-BBBB-CCCC-DDDD"]
    )
    return make_ticket(shop=shop, queue=queue, customer=customer, order=order, subject="机密工单主题", body="找不到我")


@pytest.fixture
def visible(shop, other_queue, stranger):
    """The stranger's own ticket, so their lists are not trivially empty."""
    return make_ticket(shop=shop, queue=other_queue, subject="可见工单")


def _state(ticket: Ticket) -> dict:
    row = Ticket.objects.filter(pk=ticket.pk).values().get()
    return {
        **row,
        "tags": sorted(Ticket.objects.get(pk=ticket.pk).tags.values_list("name", flat=True)),
        "messages": Message.objects.filter(ticket_id=ticket.pk).count(),
        "events": AuditEvent.objects.filter(object_id__in=[str(ticket.pk), str(ticket.order_id)]).count(),
    }


def _endpoints(ticket: Ticket, canned: CannedReply) -> list[tuple[str, str, dict]]:
    ref = ticket.reference
    return [
        ("get", reverse("console:ticket", args=[ref]), {}),
        ("post", reverse("console:ticket-reply", args=[ref]), {"kind": "reply", "body": "你好", "seen_seq": 99}),
        ("post", reverse("console:ticket-reply", args=[ref]), {"kind": "note", "body": "备注"}),
        (
            "post",
            reverse("console:ticket-fields", args=[ref]),
            {"status": "solved", "priority": "urgent", "tags": "x", "version": ticket_version(ticket)},
        ),
        ("post", reverse("console:ticket-merge", args=[ref]), {"target": ref}),
        ("post", reverse("console:ticket-reveal", args=[ref]), {}),
        ("post", reverse("console:ticket-quick", args=[ref, "assign-me"]), {}),
        ("post", reverse("console:ticket-quick", args=[ref, "solve"]), {}),
        ("get", reverse("console:ticket-messages", args=[ref]), {"after": 0}),
        ("get", reverse("console:canned-reply", args=[ref, canned.pk]), {}),
    ]


@pytest.fixture
def canned(shop):
    return CannedReply.objects.create(title="问候", shortcut="hello", body="{customer.name} 您好", shop=shop)


def _missing(ticket: Ticket) -> Ticket:
    """An unsaved ticket with a reference nobody has: the 404 a hidden ticket must look exactly like."""
    return Ticket(reference=f"T-{int(ticket.reference[2:]) + 100000:06d}", updated_at=ticket.updated_at)


@pytest.mark.django_db
def test_every_console_endpoint_answers_404_for_a_ticket_of_another_queue(client, stranger, hidden, canned):
    before = _state(hidden)
    client.force_login(stranger)
    hidden_answers = [getattr(client, method)(url, data) for method, url, data in _endpoints(hidden, canned)]
    missing_answers = [getattr(client, m)(url, data) for m, url, data in _endpoints(_missing(hidden), canned)]
    for (method, url, _data), answer, missing in zip(
        _endpoints(hidden, canned), hidden_answers, missing_answers, strict=True
    ):
        assert answer.status_code == 404, (method, url)
        assert answer.content == missing.content, (method, url)
        assert b"AAAA" not in answer.content
    assert _state(hidden) == before
    assert not AuditEvent.objects.filter(actor=stranger).exists()


@pytest.mark.django_db
def test_the_same_endpoints_answer_the_queues_agent(client, agent, hidden, canned):
    """The control for the test above: the 404s come from scoping, not from malformed requests."""
    client.force_login(agent)
    statuses = [getattr(client, method)(url, data).status_code for method, url, data in _endpoints(hidden, canned)]
    # page, reply, note, fields (stale: the reply changed the ticket), merge into itself, reveal without the
    # permission, assign-me, solve, messages, canned
    assert statuses == [200, 302, 302, 409, 400, 403, 302, 302, 200, 200]


@pytest.mark.django_db
def test_a_ticket_of_another_queue_is_in_no_view_the_stranger_can_open(client, stranger, other_queue, hidden, visible):
    client.force_login(stranger)
    for view in ["mine", "unassigned", f"queue-{other_queue.pk}", "all", f"queue-{hidden.queue_id}"]:
        response = client.get(INBOX, {"view": view, "status": ["new", "open", "pending", "solved", "closed"]})
        assert hidden.pk not in row_ids(response), view
        assert hidden.reference not in response.content.decode(), view


@pytest.mark.django_db
def test_a_ticket_of_another_queue_is_not_counted(client, stranger, other_queue, queue, hidden, visible):
    client.force_login(stranger)
    counts = view_counts(client.get(INBOX))
    assert counts == {"mine": 0, "unassigned": 1, "at_risk": 0, f"queue-{other_queue.pk}": 1}
    assert f"queue-{queue.pk}" not in counts


@pytest.mark.django_db
@pytest.mark.parametrize(
    "q",
    [
        "{ref}",
        "{ref_lower}",
        "{ref_short}",
        "机密工单主题",
        "机密",
        "找不到我",
        "DD-HIDDEN-1",
        "hidden@example.com",
        "13700001234",
    ],
)
def test_a_ticket_of_another_queue_is_never_found_by_search(client, stranger, other_queue, hidden, visible, q):
    query = q.format(
        ref=hidden.reference, ref_lower=hidden.reference.lower(), ref_short=f"t{int(hidden.reference[2:])}"
    )
    client.force_login(stranger)
    for view in ["mine", "unassigned", f"queue-{other_queue.pk}", "all"]:
        response = client.get(INBOX, {"view": view, "q": query})
        assert row_ids(response) == [], (view, query)
        assert response.context["page"].tickets == []
        fragment = client.get(INBOX, {"view": view, "q": query, "fragment": "rows"})
        assert row_ids(fragment) == []
        for trace in [hidden.reference, "机密工单主题", "隐藏客户", "DD-HIDDEN-1"]:
            assert trace not in fragment.content.decode(), (view, query, trace)


@pytest.mark.django_db
def test_the_queues_agent_finds_the_same_ticket_by_those_searches(client, agent, queue, hidden):
    """Control: the searches above do find the ticket for someone who may see it."""
    client.force_login(agent)
    for q in [hidden.reference, "机密工单主题", "找不到我", "DD-HIDDEN-1", "hidden@example.com", "13700001234"]:
        assert row_ids(client.get(INBOX, {"view": f"queue-{queue.pk}", "q": q})) == [hidden.pk], q


@pytest.mark.django_db
def test_the_customers_other_tickets_panel_lists_only_visible_ones(client, stranger, shop, other_queue, hidden):
    sibling = make_ticket(shop=shop, queue=other_queue, customer=hidden.customer, subject="同一客户的另一张")
    client.force_login(stranger)
    response = client.get(reverse("console:ticket", args=[sibling.reference]))
    assert response.status_code == 200
    assert response.context["other_tickets"] == []
    assert hidden.reference not in response.content.decode()


# --- merchants -----------------------------------------------------------------------------------------


@pytest.fixture
def two_shops(shop, other_shop, queue):
    ours = make_ticket(shop=shop, queue=queue, subject="本店工单")
    theirs = make_ticket(shop=other_shop, queue=queue, subject="他店工单")
    return ours, theirs


@pytest.mark.django_db
def test_a_merchant_sees_only_their_shops_tickets(client, shop, two_shops):
    ours, theirs = two_shops
    client.force_login(make_merchant(shop))
    response = client.get(INBOX, {"view": "all"})
    assert response.context["page"].view == "all"
    assert row_ids(response) == [ours.pk]
    assert view_counts(response)["all"] == 1
    assert row_ids(client.get(INBOX, {"view": "all", "q": theirs.reference})) == []
    assert row_ids(client.get(INBOX, {"view": "all", "q": "他店"})) == []
    assert client.get(reverse("console:ticket", args=[ours.reference])).status_code == 200
    assert client.get(reverse("console:ticket", args=[theirs.reference])).status_code == 404


@pytest.mark.django_db
def test_a_merchant_may_reply_on_their_shops_ticket_but_not_the_other(client, shop, two_shops):
    ours, theirs = two_shops
    client.force_login(make_merchant(shop))
    for ticket, expected in [(ours, 302), (theirs, 404)]:
        response = client.post(
            reverse("console:ticket-reply", args=[ticket.reference]), {"kind": "reply", "body": "店主回复"}
        )
        assert response.status_code == expected
    assert Message.objects.filter(ticket=ours).count() == 2
    assert Message.objects.filter(ticket=theirs).count() == 1


# --- people without a console --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_customer_gets_404_even_on_their_own_ticket(client, shop, queue):
    user = make_user(Role.CUSTOMER, username="buyer")
    own = make_ticket(shop=shop, queue=queue, customer=make_customer(shop, user=user, email="buyer@example.com"))
    client.force_login(user)
    assert client.get(INBOX).status_code == 404
    assert client.get(reverse("console:ticket", args=[own.reference])).status_code == 404
    response = client.post(reverse("console:ticket-reply", args=[own.reference]), {"kind": "reply", "body": "hi"})
    assert response.status_code == 404
    assert client.post(reverse("console:bulk"), {"action": "assign_me", "tickets": [own.pk]}).status_code == 404
    assert Message.objects.filter(ticket=own).count() == 1


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_log_in(client, ticket):
    for method, url in [
        ("get", INBOX),
        ("get", reverse("console:ticket", args=[ticket.reference])),
        ("post", reverse("console:ticket-reply", args=[ticket.reference])),
        ("post", reverse("console:ticket-reveal", args=[ticket.reference])),
        ("post", reverse("console:bulk")),
        ("post", reverse("console:saved-view-save")),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.url == f"{reverse('login')}?next={url}"
    assert Message.objects.filter(ticket=ticket).count() == 1
