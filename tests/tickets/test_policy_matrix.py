"""Every role × own / other-queue / other-shop / nonexistent ticket × view / reply / assign / change status.

Driven through the REST API so the HTTP answer is checked too: what a user may not see answers 404 with
exactly the body of a ticket that does not exist.
"""

import pytest
from rest_framework.test import APIClient

from helpdesk.roles import Role
from tests.factories import (
    QueueFactory,
    ShopFactory,
    make_agent,
    make_customer,
    make_integrator,
    make_merchant,
    make_ticket,
    make_user,
)
from tickets.models import Ticket

ROLES = ["supervisor", "agent", "merchant", "integrator", "customer"]
TARGETS = ["own", "other_queue", "other_shop", "nonexistent"]
ACTIONS = ["view", "reply", "assign", "change_status"]
HIDDEN = {"view": 404, "reply": 404, "assign": 404, "change_status": 404}

EXPECTED = {
    "supervisor": {
        "own": {"view": 200, "reply": 201, "assign": 200, "change_status": 200},
        "other_queue": {"view": 200, "reply": 201, "assign": 200, "change_status": 200},
        "other_shop": {"view": 200, "reply": 201, "assign": 200, "change_status": 200},
    },
    "agent": {
        "own": {"view": 200, "reply": 201, "assign": 200, "change_status": 200},
        "other_queue": HIDDEN,
        "other_shop": HIDDEN,
    },
    # A merchant answers every ticket of their shop but does not assign the desk's agents.
    "merchant": {
        "own": {"view": 200, "reply": 201, "assign": 403, "change_status": 200},
        "other_queue": {"view": 200, "reply": 201, "assign": 403, "change_status": 200},
        "other_shop": HIDDEN,
    },
    # An integrator reads its shop's tickets (and creates them); it does not work them.
    "integrator": {
        "own": {"view": 200, "reply": 403, "assign": 403, "change_status": 403},
        "other_queue": {"view": 200, "reply": 403, "assign": 403, "change_status": 403},
        "other_shop": HIDDEN,
    },
    # A customer sees and answers their own ticket and may mark it solved; nothing else exists for them.
    "customer": {
        "own": {"view": 200, "reply": 201, "assign": 403, "change_status": 200},
        "other_queue": HIDDEN,
        "other_shop": HIDDEN,
    },
}


@pytest.fixture
def world(db):
    shop_a = ShopFactory(slug="shop-a")
    shop_b = ShopFactory(slug="shop-b")
    queue_a = QueueFactory(slug="queue-a")
    queue_b = QueueFactory(slug="queue-b")
    customer_user = make_user(Role.CUSTOMER, username="buyer")
    users = {
        "supervisor": make_user(Role.SUPERVISOR, username="sup"),
        "agent": make_agent(queue_a, username="agent"),
        "merchant": make_merchant(shop_a, username="merchant"),
        "integrator": make_integrator(shop_a, username="integrator"),
        "customer": customer_user,
    }
    tickets = {
        "own": make_ticket(
            shop=shop_a, queue=queue_a, customer=make_customer(shop_a, external_id="c1", user=customer_user)
        ),
        "other_queue": make_ticket(shop=shop_a, queue=queue_b, customer=make_customer(shop_a, external_id="c2")),
        "other_shop": make_ticket(shop=shop_b, queue=queue_b, customer=make_customer(shop_b, external_id="c3")),
    }
    return users, tickets


def perform(client: APIClient, user, role: str, reference: str, action: str):
    base = f"/api/v1/tickets/{reference}/"
    if action == "view":
        return client.get(base)
    if action == "reply":
        kind = "customer" if role == "customer" else "reply"
        return client.post(base + "messages/", {"kind": kind, "body": "您好，已为您处理。"}, format="json")
    if action == "assign":
        return client.post(base + "assign/", {"assignee": user.pk}, format="json")
    return client.post(base + "status/", {"status": "solved"}, format="json")


@pytest.mark.django_db
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(world, role, target, action):
    users, tickets = world
    user = users[role]
    client = APIClient()
    client.force_login(user)
    reference = tickets[target].reference if target != "nonexistent" else "T-999999"
    before = Ticket.objects.filter(reference=reference).values("status", "assignee_id", "last_seq").first()

    response = perform(client, user, role, reference, action)

    expected = 404 if target == "nonexistent" else EXPECTED[role][target][action]
    assert response.status_code == expected, response.content
    if expected == 404:
        missing = perform(client, user, role, "T-999998", action)
        assert response.content == missing.content
        assert reference.encode() not in response.content
    if expected in (403, 404) and before is not None:
        after = Ticket.objects.filter(reference=reference).values("status", "assignee_id", "last_seq").first()
        assert after == before, "a refused action changed the ticket"


@pytest.mark.django_db
def test_lists_never_show_what_the_user_cannot_see(world):
    users, tickets = world
    expected = {
        "supervisor": {"own", "other_queue", "other_shop"},
        "agent": {"own"},
        "merchant": {"own", "other_queue"},
        "integrator": {"own", "other_queue"},
        "customer": {"own"},
    }
    for role, user in users.items():
        client = APIClient()
        client.force_login(user)
        response = client.get("/api/v1/tickets/")
        assert response.status_code == 200
        seen = {row["reference"] for row in response.json()["results"]}
        assert seen == {tickets[name].reference for name in expected[role]}, role


@pytest.mark.django_db
def test_anonymous_gets_nothing(world):
    _users, tickets = world
    client = APIClient()
    assert client.get("/api/v1/tickets/").status_code == 403
    assert client.get(f"/api/v1/tickets/{tickets['own'].reference}/").status_code == 403


@pytest.mark.django_db
def test_customer_never_reads_internal_notes(world):
    from tickets import services

    users, tickets = world
    services.internal_note_post(ticket=tickets["own"], actor=users["agent"], body="客户疑似恶意退款，注意核实")
    client = APIClient()
    client.force_login(users["customer"])
    bodies = [m["body"] for m in client.get(f"/api/v1/tickets/{tickets['own'].reference}/messages/").json()["results"]]
    assert bodies and not any("恶意退款" in b for b in bodies)
    client.force_login(users["agent"])
    bodies = [m["body"] for m in client.get(f"/api/v1/tickets/{tickets['own'].reference}/messages/").json()["results"]]
    assert any("恶意退款" in b for b in bodies)


@pytest.mark.django_db
def test_the_grants_fingerprint_changes_with_every_grant_that_changes_the_scope(queue, other_queue, shop):
    """Websockets re-check it every second instead of recomputing the scope: it must see each revocation."""
    from guardian.shortcuts import assign_perm, remove_perm

    from helpdesk.roles import Role
    from tests.factories import make_agent, make_user
    from tickets.permissions import TicketPolicy

    agent = make_agent(queue, username="fp-agent")
    seen = {TicketPolicy.grants_fingerprint(agent.pk)}
    assert TicketPolicy.grants_fingerprint(agent.pk) in seen  # stable while nothing changes
    changes = [
        lambda: assign_perm("tickets.work_queue", agent, other_queue),
        lambda: remove_perm("tickets.work_queue", agent, queue),
        lambda: assign_perm("helpdesk.access_shop", agent, shop),
        lambda: make_user(Role.SUPERVISOR, username="fp-boss").groups.first().user_set.add(agent),
        lambda: type(agent).objects.filter(pk=agent.pk).update(is_active=False),
    ]
    for change in changes:
        change()
        fingerprint = TicketPolicy.grants_fingerprint(agent.pk)
        assert fingerprint not in seen
        seen.add(fingerprint)
    assert TicketPolicy.grants_fingerprint(999_999) is None
