"""SLA clocks end to end through the services, with time travel: policy choice, due times in business time,
pauses, next-response cycles, warnings and breaches fired exactly once by the sweep, escalations, catch-up."""

from __future__ import annotations

import threading
from datetime import time, timedelta

import pytest
from django.db import connection

from tests.factories import make_agent, make_customer, make_ticket
from tickets import services
from tickets.models import Calendar, CalendarSlot, Priority, Queue, SlaEvent, SlaPolicy, Status, Ticket
from tickets.selectors.sla import at_risk_q, sla_countdown
from tickets.services.sla import sla_cache_clear, sla_sweep
from tickets.services.sla_upkeep import sla_recompute

pytestmark = pytest.mark.django_db


def policy(**fields) -> SlaPolicy:
    values = {"name": "Standard", "first_response_minutes": 5, "warn_percentages": [50, 80]}
    values.update(fields)
    categories = values.pop("categories", [])
    p = SlaPolicy.objects.create(**values)
    p.categories.set(categories)
    sla_cache_clear()  # as the admin's save does (other processes pick it up within CACHE_SECONDS)
    return p


def events(ticket: Ticket, *kinds: str) -> list[tuple[str, str, str]]:
    rows = SlaEvent.objects.filter(ticket=ticket).order_by("id")
    if kinds:
        rows = rows.filter(kind__in=kinds)
    return list(rows.values_list("kind", "metric", "threshold"))


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def test_first_policy_in_order_whose_conditions_match_applies(clock, shop, queue):
    urgent = policy(name="Urgent", position=1, priorities=["urgent"], first_response_minutes=5)
    vip = policy(name="VIP", position=2, tiers=["vip"], first_response_minutes=10)
    standard = policy(name="Standard", position=9, first_response_minutes=60)
    assert make_ticket(shop=shop, queue=queue, priority=Priority.URGENT).sla_policy == urgent
    vip_customer = make_customer(shop, external_id="v1", tier="vip")
    assert make_ticket(shop=shop, queue=queue, customer=vip_customer).sla_policy == vip
    ticket = make_ticket(shop=shop, queue=queue)
    assert ticket.sla_policy == standard
    assert ticket.sla_first_response_due_at == clock.now + timedelta(minutes=60)
    assert events(ticket) == [("applied", "", "")]


def test_queue_default_policy_when_nothing_matches(clock, shop, queue):
    default = policy(name="Payments default", priorities=["low"], first_response_minutes=30)
    queue.sla_policy = default
    queue.save()
    assert make_ticket(shop=shop, queue=queue).sla_policy == default
    assert make_ticket(shop=shop).sla_policy is None  # no queue, no matching policy: no clock


def test_a_queue_default_changed_in_admin_applies_on_the_next_change_at_once(
    clock, admin_client, django_capture_on_commit_callbacks, shop, queue
):
    """The queue's default policy is cached with the policies (every ticket write asks); the queue admin drops
    every process's copy, a change made around it waits for the cache's expiry."""
    first = policy(name="First default", priorities=["low"], first_response_minutes=30)
    second = policy(name="Second default", priorities=["low"], first_response_minutes=90)
    third = policy(name="Third default", priorities=["low"], first_response_minutes=120)
    queue.sla_policy = first
    queue.save()
    ticket = make_ticket(shop=shop, queue=queue)
    services.customer_message_post(ticket=ticket.pk, actor=None, body="还没到账")  # reads the queue's default
    assert fresh(ticket).sla_policy == first

    Queue.objects.filter(pk=queue.pk).update(sla_policy=third)  # not through the admin: this process's copy stays
    services.customer_message_post(ticket=ticket.pk, actor=None, body="在吗")
    assert fresh(ticket).sla_policy == first

    form = {
        "name": queue.name, "slug": queue.slug, "shop": shop.pk, "skills": "[]", "overflow_threshold": 0,
        "overflow_wait_minutes": 0, "sla_policy": second.pk, "is_active": "on",
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/tickets/queue/{queue.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]

    services.customer_message_post(ticket=ticket.pk, actor=None, body="请尽快处理")
    assert fresh(ticket).sla_policy == second


def test_business_hours_calendar_moves_the_due_time_to_opening_hours(clock, shop, queue):
    calendar = Calendar.objects.create(name="Office", time_zone="Asia/Shanghai")
    for day in range(5):
        CalendarSlot.objects.create(calendar=calendar, weekday=day, start=time(9), end=time(18))
    policy(calendar=calendar, first_response_minutes=60)
    clock.now = clock.now.replace(hour=9, minute=30)  # Tuesday 17:30 in Shanghai
    ticket = make_ticket(shop=shop, queue=queue)
    # 30 minutes today, 30 tomorrow from 09:00 → Wednesday 09:30 Shanghai = 01:30 UTC.
    assert ticket.sla_first_response_due_at == (clock.now + timedelta(days=1)).replace(hour=1, minute=30)


def test_sweep_fires_each_warning_and_the_breach_once(clock, shop, queue):
    policy(first_response_minutes=10, warn_percentages=[50, 80], warn_minutes_before=[1])
    ticket = make_ticket(shop=shop, queue=queue)
    start = clock.now
    assert fresh(ticket).sla_next_due_at == start + timedelta(minutes=5)
    assert sla_sweep() == 0
    clock.advance(minutes=5)
    assert sla_sweep() == 1
    assert events(ticket, "warned") == [("warned", "first_response", "p50")]
    assert fresh(ticket).sla_next_due_at == start + timedelta(minutes=8)
    clock.advance(minutes=6)  # past 80 %, 1 minute before and the due time itself
    assert sla_sweep() == 3
    assert sla_sweep() == 0
    assert events(ticket, "warned", "breached") == [
        ("warned", "first_response", "p50"),
        ("warned", "first_response", "p80"),
        ("warned", "first_response", "m1"),
        ("breached", "first_response", ""),
    ]
    ticket = fresh(ticket)
    assert ticket.sla_breached is True
    assert ticket.sla_next_due_at is None


def test_a_reply_in_time_fulfils_the_first_response_and_nothing_fires(clock, shop, queue):
    policy(first_response_minutes=10)
    agent = make_agent(queue)
    ticket = make_ticket(shop=shop, queue=queue)
    clock.advance(minutes=3)
    services.agent_reply_post(ticket=ticket, actor=agent, body="您好，正在为您核实订单。")
    ticket = fresh(ticket)
    assert ticket.sla_first_response_due_at is None and ticket.sla_next_due_at is None
    clock.advance(hours=1)
    assert sla_sweep() == 0
    assert events(ticket, "fulfilled") == [("fulfilled", "first_response", "")]
    assert ticket.sla_breached is False


def test_pending_pauses_the_clock_and_a_customer_reply_resumes_it(clock, shop, queue):
    policy(first_response_minutes=None, resolution_minutes=60, warn_percentages=[])
    agent = make_agent(queue)
    ticket = make_ticket(shop=shop, queue=queue)
    start = clock.now
    clock.advance(minutes=20)
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.PENDING)
    assert fresh(ticket).sla_next_due_at is None  # paused: nothing to sweep
    clock.advance(hours=5)
    assert sla_sweep() == 0
    services.customer_message_post(ticket=ticket, actor=None, body="补充了截图")
    ticket = fresh(ticket)
    assert ticket.status == Status.OPEN
    assert ticket.sla_resolution_due_at == start + timedelta(hours=5, minutes=60)
    assert [k for k, _, _ in events(ticket)] == ["applied", "paused", "resumed"]


def test_solve_then_reopen_counts_the_solved_time_as_paused(clock, shop, queue):
    policy(first_response_minutes=None, resolution_minutes=120, warn_percentages=[])
    agent = make_agent(queue)
    ticket = make_ticket(shop=shop, queue=queue)
    start = clock.now
    clock.advance(minutes=30)
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.SOLVED)
    assert events(fresh(ticket), "fulfilled") == [("fulfilled", "resolution", "")]
    clock.advance(hours=2)
    services.customer_message_post(ticket=ticket, actor=None, body="又不能用了")
    assert fresh(ticket).sla_resolution_due_at == start + timedelta(hours=2, minutes=120)


def test_next_response_cycle_opens_on_a_customer_message_after_a_reply(clock, shop, queue):
    policy(first_response_minutes=5, next_response_minutes=10, warn_percentages=[])
    agent = make_agent(queue)
    ticket = make_ticket(shop=shop, queue=queue)
    clock.advance(minutes=1)
    services.agent_reply_post(ticket=ticket, actor=agent, body="请提供订单号")
    assert fresh(ticket).sla_next_response_due_at is None
    clock.advance(minutes=2)
    services.customer_message_post(ticket=ticket, actor=None, body="DD20261201001")
    asked = clock.now
    assert fresh(ticket).sla_next_response_due_at == asked + timedelta(minutes=10)
    clock.advance(minutes=11)
    assert sla_sweep() == 1
    assert events(ticket, "breached") == [("breached", "next_response", "")]
    services.agent_reply_post(ticket=ticket, actor=agent, body="已补发")
    ticket = fresh(ticket)
    assert ticket.sla_next_response_due_at is None and ticket.sla_next_due_at is None
    # A second cycle is a new cycle: it may breach again, once.
    clock.advance(seconds=30)
    services.customer_message_post(ticket=ticket, actor=None, body="收到，谢谢，还有一个问题")
    clock.advance(minutes=11)
    assert sla_sweep() == 1
    assert len(events(ticket, "breached")) == 2


def test_breach_escalates_priority_queue_and_assignee(clock, shop, queue, other_queue):
    lead = make_agent(other_queue, username="lead")
    policy(
        first_response_minutes=5,
        warn_percentages=[],
        escalate_raise_priority=True,
        escalate_queue=other_queue,
        escalate_assignee=lead,
    )
    ticket = make_ticket(shop=shop, queue=queue)
    clock.advance(minutes=6)
    assert sla_sweep() == 1
    ticket = fresh(ticket)
    assert (ticket.priority, ticket.queue_id, ticket.assignee_id) == (Priority.HIGH, other_queue.pk, lead.pk)
    from helpdesk.models import AuditEvent

    actions = set(AuditEvent.objects.filter(object_id=str(ticket.pk)).values_list("action", flat=True))
    assert {"ticket.sla_breached", "ticket.update", "ticket.assign"} <= actions


def test_after_downtime_one_sweep_records_every_missed_warning_and_breach_once(clock, shop, queue):
    policy(first_response_minutes=5, resolution_minutes=20, warn_percentages=[50, 80])
    tickets = [make_ticket(shop=shop, queue=queue) for _ in range(3)]
    clock.advance(minutes=30)  # no worker for 30 minutes
    assert sla_sweep() == 3 * 6  # 2 metrics × (2 warnings + breach) per ticket
    assert sla_sweep() == 0
    for ticket in tickets:
        assert len(events(ticket, "warned")) == 4 and len(events(ticket, "breached")) == 2


def test_policy_edit_recomputes_open_tickets(clock, shop, queue):
    p = policy(first_response_minutes=30)
    ticket = make_ticket(shop=shop, queue=queue)
    p.first_response_minutes = 10
    p.save()
    assert sla_recompute(policy_id=p.pk) == 1
    assert fresh(ticket).sla_first_response_due_at == clock.now + timedelta(minutes=10)


def test_at_risk_filter_and_countdown(clock, shop, queue):
    policy(first_response_minutes=20)
    ticket = make_ticket(shop=shop, queue=queue)
    policy(name="slow", position=1, priorities=["low"], first_response_minutes=600)
    slow = make_ticket(shop=shop, queue=queue, priority=Priority.LOW)
    at_risk = set(Ticket.objects.filter(at_risk_q()).values_list("pk", flat=True))
    assert ticket.pk in at_risk and slow.pk not in at_risk
    countdown = sla_countdown(fresh(ticket))
    assert (countdown.metric, countdown.seconds_left, countdown.state) == ("first_response", 1200, "at_risk")
    clock.advance(minutes=25)
    assert sla_countdown(fresh(ticket)).state == "breached"


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_never_double_fire(shop, queue):
    from django.utils import timezone

    policy(first_response_minutes=1, warn_percentages=[50])
    tickets = [make_ticket(shop=shop, queue=queue) for _ in range(40)]
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(
        created_at=timezone.now() - timedelta(minutes=5), sla_next_due_at=timezone.now() - timedelta(minutes=4)
    )
    counts: list[int] = []
    barrier = threading.Barrier(4)

    def run():
        try:
            barrier.wait()
            counts.append(sla_sweep(batch=7))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 80
    assert SlaEvent.objects.filter(kind__in=["warned", "breached"]).count() == 80


def test_the_api_shows_the_running_clocks_and_the_classifier_reading(clock, client, shop, queue):
    policy(first_response_minutes=15)
    ticket = make_ticket(shop=shop, queue=queue)
    Ticket.objects.filter(pk=ticket.pk).update(intent="refund", intent_confidence=0.82)
    client.force_login(make_agent(queue))
    data = client.get(f"/api/v1/tickets/{ticket.reference}/").json()
    due = (clock.now + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M")
    assert data["sla"]["first_response_due_at"].startswith(due)
    assert data["sla"]["breached"] is False
    assert (data["intent"], data["intent_confidence"]) == ("refund", 0.82)


def test_a_policy_deleted_elsewhere_is_not_applied_from_a_stale_cache(clock, shop, queue):
    """Another process deleted the policy and bumped the version: this process drops its copy at once."""
    from django.core.cache import cache

    from tickets.services.sla import VERSION_KEY

    doomed = policy(first_response_minutes=30)
    make_ticket(shop=shop, queue=queue)  # this process now caches `doomed`
    SlaPolicy.objects.filter(pk=doomed.pk).delete()
    cache.set(VERSION_KEY, "bumped-by-another-process", None)
    ticket = make_ticket(shop=shop, queue=queue)  # would fail at commit on the deleted policy's foreign key
    assert ticket.sla_policy is None
    assert not SlaEvent.objects.filter(ticket=ticket).exists()
