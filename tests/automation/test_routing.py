"""Routing: VIP to the VIP queue, overflow, least-loaded with round-robin among equals, capacity, urgent
payment problems straight to a person, and atomic claims (50 at once → one winner)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import CategoryFactory, QueueFactory, make_agent, make_customer, make_ticket
from tickets.models import AgentProfile, Priority, Ticket
from tickets.services.routing import AlreadyClaimed, ticket_claim, ticket_route

pytestmark = pytest.mark.django_db


def online(*agents, capacity: int = 5, skills: list[str] | None = None) -> None:
    AgentProfile.objects.filter(user__in=agents).update(
        presence="online", presence_changed_at=timezone.now(), max_open_tickets=capacity, skills=skills or []
    )


@pytest.fixture
def auto_queue(queue):
    queue.auto_assign = True
    queue.save()
    return queue


def test_least_loaded_first_then_round_robin_among_equals(shop, auto_queue):
    a, b, c = (make_agent(auto_queue, username=n) for n in ("ra", "rb", "rc"))
    online(a, b, c)
    busy = make_ticket(shop=shop, queue=auto_queue)
    Ticket.objects.filter(pk=busy.pk).update(assignee=a)
    picks = [ticket_route(ticket_id=make_ticket(shop=shop, queue=auto_queue).pk).assignee_id for _ in range(4)]
    # b and c (load 0) first, in turn; then all three carry one: a (never routed to) goes first, then b/c again.
    assert picks[:2] in ([b.pk, c.pk], [c.pk, b.pk])
    assert picks[2] == a.pk
    assert picks[3] in {b.pk, c.pk} and picks[3] == picks[0]


def test_offline_agents_missing_skills_and_full_agents_get_nothing(shop, auto_queue):
    auto_queue.skills = ["steam"]
    auto_queue.save()
    skilled, unskilled, away = (make_agent(auto_queue, username=n) for n in ("sk", "un", "aw"))
    online(skilled, skills=["steam", "refund"], capacity=1)
    online(unskilled, skills=["refund"])
    AgentProfile.objects.filter(user=away).update(presence="away", skills=["steam"])
    first = ticket_route(ticket_id=make_ticket(shop=shop, queue=auto_queue).pk)
    second = ticket_route(ticket_id=make_ticket(shop=shop, queue=auto_queue).pk)
    assert (first.assignee_id, first.reason) == (skilled.pk, "assigned")
    assert (second.assignee_id, second.reason) == (None, "no_agent")  # the only skilled agent is full


def test_a_stale_heartbeat_counts_as_offline(shop, auto_queue):
    agent = make_agent(auto_queue, username="stale")
    online(agent)
    AgentProfile.objects.filter(user=agent).update(presence_changed_at=timezone.now() - timedelta(minutes=5))
    assert ticket_route(ticket_id=make_ticket(shop=shop, queue=auto_queue).pk).reason == "no_agent"


def test_queues_without_auto_assign_are_left_for_agents_to_take(shop, queue):
    online(make_agent(queue, username="manual"))
    routed = ticket_route(ticket_id=make_ticket(shop=shop, queue=queue).pk)
    assert (routed.assignee_id, routed.reason) == (None, "not_routed")


def test_urgent_payment_problems_reach_a_person_even_at_capacity(shop, queue):
    agent = make_agent(queue, username="pay")
    online(agent, capacity=0)
    payment = CategoryFactory(slug="payment-not-received")
    ticket = make_ticket(shop=shop, queue=queue, category=payment, priority=Priority.URGENT)
    routed = ticket_route(ticket_id=ticket.pk)
    assert (routed.assignee_id, routed.reason) == (agent.pk, "urgent")


def test_vip_customers_move_to_the_vip_queue(shop, queue):
    vip_queue = QueueFactory(slug="vip", is_vip=True, auto_assign=True)
    vip_agent = make_agent(vip_queue, username="vipagent")
    online(vip_agent)
    customer = make_customer(shop, external_id="vip-1", tier="vip")
    routed = ticket_route(ticket_id=make_ticket(shop=shop, queue=queue, customer=customer).pk)
    assert (routed.queue_id, routed.assignee_id) == (vip_queue.pk, vip_agent.pk)


def test_overflow_moves_new_tickets_once_the_queue_is_past_its_threshold(shop, queue, other_queue):
    queue.overflow_queue, queue.overflow_threshold = other_queue, 2
    queue.save()
    tickets = [make_ticket(shop=shop, queue=queue) for _ in range(3)]
    assert ticket_route(ticket_id=tickets[0].pk).queue_id == other_queue.pk  # 3 waiting > 2: it overflows
    assert Ticket.objects.get(pk=tickets[0].pk).queue_id == other_queue.pk
    assert ticket_route(ticket_id=tickets[1].pk).queue_id == queue.pk  # 2 waiting now: stays


@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_claims_have_exactly_one_winner(shop, queue):
    agents = [make_agent(queue, username=f"claim{i}") for i in range(50)]
    ticket = make_ticket(shop=shop, queue=queue)
    barrier = threading.Barrier(50)
    won, lost, errors = [], [], []

    def claim(agent):
        try:
            barrier.wait()
            ticket_claim(ticket_id=ticket.pk, actor=agent)
            won.append(agent.pk)
        except AlreadyClaimed:
            lost.append(agent.pk)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(won) == 1 and len(lost) == 49
    assert Ticket.objects.get(pk=ticket.pk).assignee_id == won[0]


@pytest.mark.django_db(transaction=True)
def test_concurrent_routing_never_exceeds_an_agents_capacity(shop, queue):
    queue.auto_assign = True
    queue.save()
    agents = [make_agent(queue, username=f"cap{i}") for i in range(3)]
    online(*agents, capacity=2)
    tickets = [make_ticket(shop=shop, queue=queue) for _ in range(12)]
    barrier = threading.Barrier(len(tickets))

    def route(ticket):
        try:
            barrier.wait()
            ticket_route(ticket_id=ticket.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=route, args=(t,)) for t in tickets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    loads = {a.pk: Ticket.objects.filter(assignee=a).count() for a in agents}
    assert loads == {a.pk: 2 for a in agents}
    assert Ticket.objects.filter(assignee__isnull=True).count() == 6


def test_tickets_waiting_too_long_move_to_the_overflow_queue(clock, shop, queue, other_queue):
    queue.overflow_queue, queue.overflow_wait_minutes = other_queue, 10
    queue.save()
    from tickets.services.routing import routing_overflow_sweep

    old = make_ticket(shop=shop, queue=queue)
    clock.advance(minutes=8)
    new = make_ticket(shop=shop, queue=queue)
    clock.advance(minutes=3)
    assert routing_overflow_sweep() == 1
    assert Ticket.objects.get(pk=old.pk).queue_id == other_queue.pk
    assert Ticket.objects.get(pk=new.pk).queue_id == queue.pk
