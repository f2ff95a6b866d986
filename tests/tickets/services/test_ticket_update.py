"""ticket_update: only the fields passed change, each change audited with before/after, in one transaction."""

import pytest

from helpdesk.audit import audit_chain_verify
from helpdesk.models import AuditEvent
from helpdesk.roles import Role
from tests.factories import (
    CategoryFactory,
    QueueFactory,
    make_agent,
    make_customer,
    make_integrator,
    make_merchant,
    make_ticket,
    make_user,
)
from tickets import services
from tickets.errors import InvalidInput, NotAllowed, NotVisible
from tickets.models import Priority, Tag, Ticket


def _update_events(ticket: Ticket) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="ticket.update", object_id=str(ticket.pk)).order_by("id"))


def _state(ticket: Ticket) -> dict:
    row = Ticket.objects.get(pk=ticket.pk)
    return {
        "priority": row.priority,
        "category": row.category_id,
        "queue": row.queue_id,
        "subject": row.subject,
        "status": row.status,
        "assignee": row.assignee_id,
        "tags": sorted(row.tags.values_list("name", flat=True)),
        "updated_at": row.updated_at,
    }


@pytest.fixture
def tagged_ticket(shop, queue):
    return make_ticket(shop=shop, queue=queue, subject="卡密无效", tags=["payment", "refund"])


@pytest.mark.django_db
def test_priority_change_is_audited_with_before_and_after(ticket, agent):
    result = services.ticket_update(ticket=ticket, actor=agent, priority=Priority.URGENT)
    assert result.priority == Priority.URGENT
    assert _state(ticket)["priority"] == Priority.URGENT
    [event] = _update_events(ticket)
    assert event.changes == {"priority": ["normal", "urgent"]}
    assert event.actor_id == agent.pk
    assert audit_chain_verify().ok


@pytest.mark.django_db
def test_category_is_set_changed_and_cleared_with_ids_in_the_audit(ticket, agent):
    delivery, refund = CategoryFactory(slug="delivery"), CategoryFactory(slug="refund")
    services.ticket_update(ticket=ticket, actor=agent, category=delivery)
    services.ticket_update(ticket=ticket, actor=agent, category=refund)
    services.ticket_update(ticket=ticket, actor=agent, category=None)
    assert _state(ticket)["category"] is None
    assert [e.changes for e in _update_events(ticket)] == [
        {"category": [None, delivery.pk]},
        {"category": [delivery.pk, refund.pk]},
        {"category": [refund.pk, None]},
    ]


@pytest.mark.django_db
def test_queue_moves_to_a_shared_queue_or_one_of_the_same_shop(ticket, supervisor, shop):
    shared = QueueFactory(slug="shared", shop=None)
    own = QueueFactory(slug="own-shop", shop=shop)
    old_queue = ticket.queue_id
    services.ticket_update(ticket=ticket, actor=supervisor, queue=shared)
    services.ticket_update(ticket=ticket, actor=supervisor, queue=own)
    assert _state(ticket)["queue"] == own.pk
    assert [e.changes for e in _update_events(ticket)] == [
        {"queue": [old_queue, shared.pk]},
        {"queue": [shared.pk, own.pk]},
    ]


@pytest.mark.django_db
def test_subject_change_is_stripped_and_audited(ticket, agent):
    old = ticket.subject
    services.ticket_update(ticket=ticket, actor=agent, subject="  充值码提示已使用  ")
    assert _state(ticket)["subject"] == "充值码提示已使用"
    assert _update_events(ticket)[0].changes == {"subject": [old, "充值码提示已使用"]}


@pytest.mark.django_db
def test_tags_are_replaced_and_audited_as_sorted_lists(tagged_ticket, agent):
    services.ticket_update(ticket=tagged_ticket, actor=agent, tags=["vip", "payment"])
    assert _state(tagged_ticket)["tags"] == ["payment", "vip"]
    assert _update_events(tagged_ticket)[0].changes == {"tags": [["payment", "refund"], ["payment", "vip"]]}
    services.ticket_update(ticket=tagged_ticket, actor=agent, tags=[])
    assert _state(tagged_ticket)["tags"] == []
    assert _update_events(tagged_ticket)[1].changes == {"tags": [["payment", "vip"], []]}


@pytest.mark.django_db
def test_tags_are_created_on_demand_and_deduplicated(ticket, agent):
    Tag.objects.create(name="payment")
    services.ticket_update(ticket=ticket, actor=agent, tags=["payment", " urgent-refund ", "urgent-refund", "", "  "])
    assert _state(ticket)["tags"] == ["payment", "urgent-refund"]
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["payment", "urgent-refund"]
    assert Tag.objects.filter(name="payment").count() == 1
    other = make_ticket(shop=ticket.shop, queue=ticket.queue)
    services.ticket_update(ticket=other, actor=agent, tags=["urgent-refund"])
    assert Tag.objects.count() == 2  # reused, not created again


@pytest.mark.django_db
def test_only_the_fields_passed_change(tagged_ticket, agent):
    category = CategoryFactory(slug="delivery")
    services.ticket_update(ticket=tagged_ticket, actor=agent, category=category)
    before = _state(tagged_ticket)
    services.ticket_update(ticket=tagged_ticket, actor=agent, priority=Priority.HIGH)
    after = _state(tagged_ticket)
    assert after["priority"] == Priority.HIGH
    for field in ("category", "queue", "subject", "status", "assignee", "tags"):
        assert after[field] == before[field], field
    assert _update_events(tagged_ticket)[-1].changes == {"priority": ["normal", "high"]}


@pytest.mark.django_db
def test_several_fields_in_one_call_write_one_audit_event(tagged_ticket, agent, shop):
    category = CategoryFactory(slug="delivery")
    own = QueueFactory(slug="own-shop", shop=shop)
    old_queue = tagged_ticket.queue_id
    services.ticket_update(
        ticket=tagged_ticket,
        actor=agent,
        priority=Priority.LOW,
        category=category,
        queue=own,
        tags=["refund"],
        subject="退款",
    )
    [event] = _update_events(tagged_ticket)
    assert event.changes == {
        "priority": ["normal", "low"],
        "category": [None, category.pk],
        "queue": [old_queue, own.pk],
        "tags": [["payment", "refund"], ["refund"]],
        "subject": ["卡密无效", "退款"],
    }


@pytest.mark.django_db
def test_unchanged_values_write_no_audit_event_and_do_not_touch_the_row(tagged_ticket, agent):
    before = _state(tagged_ticket)
    services.ticket_update(
        ticket=tagged_ticket,
        actor=agent,
        priority=Priority.NORMAL,
        category=None,
        queue=tagged_ticket.queue,
        tags=["refund", "payment", "refund"],
        subject=" 卡密无效 ",
    )
    services.ticket_update(ticket=tagged_ticket, actor=agent)
    assert _state(tagged_ticket) == before
    assert _update_events(tagged_ticket) == []


@pytest.mark.django_db
@pytest.mark.parametrize("priority", ["extreme", "", "URGENT", None])
def test_unknown_priority_is_invalid_input_and_nothing_changes(tagged_ticket, agent, priority):
    before = _state(tagged_ticket)
    with pytest.raises(InvalidInput) as err:
        services.ticket_update(ticket=tagged_ticket, actor=agent, priority=priority, tags=["other"])
    assert err.value.field == "priority"
    assert _state(tagged_ticket) == before
    assert _update_events(tagged_ticket) == []


@pytest.mark.django_db
@pytest.mark.parametrize("subject", ["", "   ", "x" * 201])
def test_empty_or_long_subject_is_invalid_input_and_nothing_changes(ticket, agent, subject):
    before = _state(ticket)
    with pytest.raises(InvalidInput) as err:
        services.ticket_update(ticket=ticket, actor=agent, priority=Priority.HIGH, subject=subject)
    assert err.value.field == "subject"
    assert _state(ticket) == before
    assert _update_events(ticket) == []


@pytest.mark.django_db
def test_a_200_character_subject_is_accepted(ticket, agent):
    services.ticket_update(ticket=ticket, actor=agent, subject="x" * 200)
    assert _state(ticket)["subject"] == "x" * 200


@pytest.mark.django_db
def test_subject_length_is_judged_after_stripping_as_in_ticket_create(ticket, agent):
    padded = "x" * 200 + "  "
    created = make_ticket(shop=ticket.shop, queue=ticket.queue, subject=padded)
    assert created.subject == "x" * 200
    services.ticket_update(ticket=ticket, actor=agent, subject=padded)
    assert _state(ticket)["subject"] == "x" * 200


@pytest.mark.django_db
def test_queue_of_another_shop_is_invalid_input_and_nothing_changes(tagged_ticket, supervisor, other_shop):
    foreign = QueueFactory(slug="moon-queue", shop=other_shop)
    before = _state(tagged_ticket)
    with pytest.raises(InvalidInput) as err:
        services.ticket_update(
            ticket=tagged_ticket,
            actor=supervisor,
            priority=Priority.URGENT,
            subject="changed",
            queue=foreign,
            tags=["changed"],
        )
    assert err.value.field == "queue"
    assert _state(tagged_ticket) == before
    assert not Tag.objects.filter(name="changed").exists()
    assert _update_events(tagged_ticket) == []


@pytest.mark.django_db
def test_agent_outside_the_queue_gets_not_visible(ticket, other_queue):
    outsider = make_agent(other_queue, username="outsider")
    before = _state(ticket)
    with pytest.raises(NotVisible):
        services.ticket_update(ticket=ticket, actor=outsider, priority=Priority.HIGH)
    assert _state(ticket) == before


@pytest.mark.django_db
def test_merchant_of_the_shop_may_update_and_is_the_audited_actor(ticket):
    merchant = make_merchant(ticket.shop, username="shop-staff")
    services.ticket_update(ticket=ticket, actor=merchant, priority=Priority.HIGH, tags=["vip"])
    state = _state(ticket)
    assert (state["priority"], state["tags"]) == (Priority.HIGH, ["vip"])
    assert _update_events(ticket)[0].actor_id == merchant.pk


@pytest.mark.django_db
def test_merchant_of_another_shop_gets_not_visible(ticket, other_shop):
    stranger = make_merchant(other_shop, username="stranger")
    with pytest.raises(NotVisible):
        services.ticket_update(ticket=ticket, actor=stranger, priority=Priority.HIGH)
    assert _state(ticket)["priority"] == Priority.NORMAL


@pytest.mark.django_db
def test_integrator_and_customer_see_the_ticket_but_may_not_update_it(shop, queue):
    buyer = make_user(Role.CUSTOMER, username="buyer")
    ticket = make_ticket(shop=shop, queue=queue, customer=make_customer(shop, user=buyer))
    for actor in (make_integrator(shop, username="api"), buyer):
        with pytest.raises(NotAllowed):
            services.ticket_update(ticket=ticket, actor=actor, priority=Priority.URGENT)
    assert _state(ticket)["priority"] == Priority.NORMAL
    assert _update_events(ticket) == []


@pytest.mark.django_db
def test_system_actor_may_update(ticket):
    services.ticket_update(ticket=ticket, actor=None, tags=["auto-triaged"])
    [event] = _update_events(ticket)
    assert (event.actor_id, event.actor_label) == (None, "system")
    assert event.changes == {"tags": [[], ["auto-triaged"]]}
