"""The tickets admin: scoped by the policy, every change through services, secrets masked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from helpdesk.models import AuditEvent, Shop
from helpdesk.roles import Role
from tests.factories import (
    CategoryFactory,
    ShopFactory,
    make_agent,
    make_customer,
    make_merchant,
    make_ticket,
    make_user,
)
from tickets import services
from tickets.models import AgentProfile, Attachment, CannedReply, Customer, Message, Order, Queue, Status, Tag, Ticket

PLAIN_KEY = "ABCD-EFGH-IJKL-7890"
MASKED_KEY = "ABCD-****-****-7890"
PLAIN_PHONE = "13812345678"
MASKED_PHONE = "138****5678"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def changelist(model: str) -> str:
    return reverse(f"admin:tickets_{model}_changelist")


def change(model: str, pk: Any) -> str:
    return reverse(f"admin:tickets_{model}_change", args=[pk])


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def run_action(client: Any, action: str, tickets: list[Ticket], **extra: Any) -> Any:
    data = {"action": action, "index": 0, ACTION_CHECKBOX_NAME: [t.pk for t in tickets], **extra}
    return client.post(changelist("ticket"), data)


@dataclass
class World:
    shop: Shop
    other_shop: Shop
    queue: Queue
    ticket: Ticket
    other_ticket: Ticket
    customer: Customer
    other_customer: Customer
    order: Order
    other_order: Order


@pytest.fixture
def world(shop: Shop, other_shop: Shop, queue: Queue) -> World:
    customer = make_customer(shop, name="李雷", phone=PLAIN_PHONE)
    order = services.order_upsert(
        shop=shop, order_no="202611220001", actor=None, customer=customer, card_keys=[PLAIN_KEY], amount="30.00"
    )
    ticket = make_ticket(shop=shop, queue=queue, customer=customer, order=order, tags=["payment"])
    other_customer = make_customer(other_shop, name="韩梅梅")
    other_order = services.order_upsert(shop=other_shop, order_no="MOON-1", actor=None, customer=other_customer)
    other_ticket = make_ticket(shop=other_shop, customer=other_customer, order=other_order, subject="Moon ticket")
    return World(shop, other_shop, queue, ticket, other_ticket, customer, other_customer, order, other_order)


@pytest.fixture
def boss_client(client: Any, supervisor: Any) -> Any:
    client.force_login(supervisor)
    return client


def ticket_form(ticket: Ticket, **overrides: Any) -> dict[str, Any]:
    data = {
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "queue": ticket.queue_id or "",
        "assignee": ticket.assignee_id or "",
        "category": ticket.category_id or "",
        "tags": list(ticket.tags.values_list("pk", flat=True)),
        "messages-TOTAL_FORMS": 0,
        "messages-INITIAL_FORMS": 0,
    }
    data.update(overrides)
    return data


# --- pages load ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_tickets_model_lists_and_opens_for_a_supervisor(boss_client: Any, world: World, agent: Any) -> None:
    category = CategoryFactory()
    tag = Tag.objects.get(name="payment")
    reply = CannedReply.objects.create(title="卡密未到", shortcut="no-key", body="您好 {customer.name}")
    upload = SimpleUploadedFile("shot.png", PNG, content_type="image/png")
    services.customer_message_post(ticket=world.ticket, actor=None, body="截图", attachments=[upload])
    attachment = Attachment.objects.get()
    objects = {
        "customer": world.customer,
        "order": world.order,
        "queue": world.queue,
        "agentprofile": AgentProfile.objects.get(user=agent),
        "category": category,
        "tag": tag,
        "ticket": world.ticket,
        "message": Message.objects.filter(ticket=world.ticket).first(),
        "attachment": attachment,
        "cannedreply": reply,
    }
    for model, obj in objects.items():
        assert boss_client.get(changelist(model)).status_code == 200, model
        assert boss_client.get(change(model, obj.pk)).status_code == 200, model
    assert boss_client.get(changelist("ticket"), {"q": world.ticket.reference}).status_code == 200
    by_phone = boss_client.get(changelist("customer"), {"q": f"+86 {PLAIN_PHONE}"})
    assert list(by_phone.context["cl"].result_list) == [world.customer]  # through the phone's blind index


@pytest.mark.django_db
def test_tickets_cannot_be_added_or_deleted_in_admin(boss_client: Any, world: World) -> None:
    assert boss_client.get(reverse("admin:tickets_ticket_add")).status_code == 403
    assert boss_client.get(reverse("admin:tickets_ticket_delete", args=[world.ticket.pk])).status_code == 403


# --- scope -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_merchant_lists_only_their_shops_tickets_customers_and_orders(client: Any, world: World) -> None:
    client.force_login(make_merchant(world.shop))
    tickets = client.get(changelist("ticket"))
    assert list(tickets.context["cl"].result_list) == [world.ticket]
    assert "Moon" not in tickets.content.decode()  # no other shop in rows or filter choices
    assert list(client.get(changelist("customer")).context["cl"].result_list) == [world.customer]
    assert list(client.get(changelist("order")).context["cl"].result_list) == [world.order]
    assert list(client.get(changelist("message")).context["cl"].result_list) == list(world.ticket.messages.all())


@pytest.mark.django_db
def test_merchant_gets_404_for_another_shops_objects(client: Any, world: World) -> None:
    client.force_login(make_merchant(world.shop))
    assert client.get(change("ticket", world.ticket.pk)).status_code == 200
    assert client.get(change("ticket", world.other_ticket.pk)).status_code == 404
    assert client.get(change("ticket", 999999)).status_code == 404  # missing and hidden look the same
    assert client.get(change("customer", world.other_customer.pk)).status_code == 404
    assert client.get(change("order", world.other_order.pk)).status_code == 404
    message = world.other_ticket.messages.first()
    assert client.get(change("message", message.pk)).status_code == 404
    assert client.get(reverse("admin:tickets_ticket_history", args=[world.other_ticket.pk])).status_code == 404


@pytest.mark.django_db
def test_merchant_does_not_see_desk_configuration(client: Any, world: World) -> None:
    client.force_login(make_merchant(world.shop))
    assert client.get(changelist("queue")).status_code == 403
    assert client.get(changelist("cannedreply")).status_code == 403


@pytest.mark.django_db
def test_agent_sees_the_customers_and_orders_of_their_queues_tickets(client: Any, world: World, agent: Any) -> None:
    client.force_login(agent)
    assert list(client.get(changelist("ticket")).context["cl"].result_list) == [world.ticket]
    assert list(client.get(changelist("customer")).context["cl"].result_list) == [world.customer]
    assert list(client.get(changelist("order")).context["cl"].result_list) == [world.order]
    assert client.get(change("customer", world.other_customer.pk)).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["supervisor", "merchant"])
def test_ticket_changelist_queries_do_not_grow_with_rows(
    client: Any, shop: Shop, queue: Queue, role: str, django_assert_max_num_queries: Any
) -> None:
    user = make_user(Role.SUPERVISOR) if role == "supervisor" else make_merchant(shop)
    client.force_login(user)
    category = CategoryFactory(parent=CategoryFactory())
    make_ticket(shop=shop, queue=queue, category=category, tags=["a", "b"])
    client.get(changelist("ticket"))  # warm per-process caches (content types)
    with CaptureQueriesContext(connection) as one:
        assert client.get(changelist("ticket")).status_code == 200
    for i in range(19):
        make_ticket(shop=shop, queue=queue, category=category, tags=["a", f"t{i}"])
        make_ticket(shop=ShopFactory(), queue=queue)  # seen by the supervisor only
    expected = 20 if role == "merchant" else 39
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(changelist("ticket"))
    assert response.context["cl"].result_count == expected
    assert len(one.captured_queries) <= 18


# --- actions ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_assign_to_me_goes_through_ticket_assign(boss_client: Any, world: World, supervisor: Any) -> None:
    response = run_action(boss_client, "assign_to_me", [world.ticket])
    assert response.status_code == 302
    world.ticket.refresh_from_db()
    assert world.ticket.assignee_id == supervisor.pk
    assert world.ticket.status == Status.OPEN
    event = AuditEvent.objects.get(action="ticket.assign", object_id=str(world.ticket.pk))
    assert event.actor_id == supervisor.pk

    run_action(boss_client, "unassign", [world.ticket])
    world.ticket.refresh_from_db()
    assert world.ticket.assignee_id is None


@pytest.mark.django_db
def test_assign_to_asks_for_an_agent_and_reports_refusals_per_ticket(
    boss_client: Any, world: World, agent: Any
) -> None:
    page = run_action(boss_client, "assign_to", [world.ticket, world.other_ticket])
    assert page.status_code == 200
    assert "agent-a" in page.content.decode()

    response = run_action(boss_client, "assign_to", [world.ticket, world.other_ticket], apply="yes", assignee=agent.pk)
    assert response.status_code == 302
    world.ticket.refresh_from_db()
    world.other_ticket.refresh_from_db()
    assert world.ticket.assignee_id == agent.pk
    assert world.other_ticket.assignee_id is None  # the agent does not work that ticket's queue
    notes = messages_of(response)
    assert any(world.other_ticket.reference in note and "does not work" in note for note in notes)


@pytest.mark.django_db
def test_status_action_reports_invalid_transitions_and_continues(boss_client: Any, world: World) -> None:
    solved = make_ticket(shop=world.shop, queue=world.queue)
    services.ticket_change_status(ticket=solved, actor=None, status=Status.SOLVED)
    response = run_action(boss_client, "set_status_closed", [world.ticket, solved])
    world.ticket.refresh_from_db()
    solved.refresh_from_db()
    assert world.ticket.status == Status.NEW  # new → closed is not a transition
    assert solved.status == Status.CLOSED
    notes = messages_of(response)
    assert any(world.ticket.reference in note for note in notes)
    assert not AuditEvent.objects.filter(action="ticket.status", object_id=str(world.ticket.pk)).exists()


@pytest.mark.django_db
def test_merge_action_merges_the_newer_into_the_older(boss_client: Any, world: World) -> None:
    newer = make_ticket(shop=world.shop, queue=world.queue, customer=world.customer)
    response = run_action(boss_client, "merge_tickets", [newer, world.ticket])
    assert response.status_code == 302
    newer.refresh_from_db()
    assert newer.merged_into_id == world.ticket.pk
    assert newer.status == Status.CLOSED
    assert AuditEvent.objects.filter(action="ticket.merge", object_id=str(newer.pk)).exists()


@pytest.mark.django_db
def test_merge_action_needs_exactly_two_tickets(boss_client: Any, world: World) -> None:
    third = make_ticket(shop=world.shop, queue=world.queue)
    fourth = make_ticket(shop=world.shop, queue=world.queue)
    response = run_action(boss_client, "merge_tickets", [world.ticket, third, fourth])
    assert any("exactly two" in note for note in messages_of(response))
    assert not Ticket.objects.filter(merged_into__isnull=False).exists()


@pytest.mark.django_db
def test_reveal_action_shows_keys_once_uncached_and_audited(boss_client: Any, world: World, supervisor: Any) -> None:
    response = run_action(boss_client, "reveal_card_keys", [world.ticket])
    assert response.status_code == 200
    assert PLAIN_KEY in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert not messages_of(response) or all(PLAIN_KEY not in note for note in messages_of(response))
    event = AuditEvent.objects.get(action="order.card_keys_revealed")
    assert event.actor_id == supervisor.pk and PLAIN_KEY not in str(event.changes)


@pytest.mark.django_db
def test_reveal_action_is_not_offered_without_the_permission(client: Any, world: World, agent: Any) -> None:
    client.force_login(agent)
    actions = client.get(changelist("ticket")).context["action_form"].fields["action"].choices
    assert "reveal_card_keys" not in {name for name, _label in actions}
    response = run_action(client, "reveal_card_keys", [world.ticket])
    assert PLAIN_KEY not in response.content.decode()
    assert not AuditEvent.objects.filter(action="order.card_keys_revealed").exists()


# --- change form -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_change_form_edits_go_through_services(boss_client: Any, world: World, agent: Any) -> None:
    category = CategoryFactory()
    urgent = Tag.objects.create(name="urgent")
    data = ticket_form(
        world.ticket, status=Status.PENDING, priority="high", category=category.pk, assignee=agent.pk, tags=[urgent.pk]
    )
    response = boss_client.post(change("ticket", world.ticket.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    world.ticket.refresh_from_db()
    assert (world.ticket.status, world.ticket.priority, world.ticket.assignee_id) == (Status.PENDING, "high", agent.pk)
    assert list(world.ticket.tags.values_list("name", flat=True)) == ["urgent"]
    actions = set(AuditEvent.objects.filter(object_id=str(world.ticket.pk)).values_list("action", flat=True))
    assert {"ticket.update", "ticket.assign", "ticket.status"} <= actions
    update = AuditEvent.objects.get(action="ticket.update", object_id=str(world.ticket.pk))
    assert update.changes["tags"] == [["payment"], ["urgent"]]


@pytest.mark.django_db
def test_change_form_refusal_names_the_field_and_saves_nothing(boss_client: Any, world: World) -> None:
    response = boss_client.post(
        change("ticket", world.ticket.pk), ticket_form(world.ticket, status="closed", priority="urgent")
    )
    assert response.status_code == 200
    assert "status" in response.context["adminform"].form.errors
    world.ticket.refresh_from_db()
    assert (world.ticket.status, world.ticket.priority) == (Status.NEW, "normal")  # priority rolled back too
    assert not AuditEvent.objects.filter(action="ticket.update", object_id=str(world.ticket.pk)).exists()


@pytest.mark.django_db
def test_change_form_refuses_an_assignee_who_does_not_work_the_queue(boss_client: Any, world: World) -> None:
    outsider = make_agent(username="outsider")
    response = boss_client.post(change("ticket", world.ticket.pk), ticket_form(world.ticket, assignee=outsider.pk))
    assert response.status_code == 200
    assert "outsider does not work" in str(response.context["adminform"].form.non_field_errors())
    world.ticket.refresh_from_db()
    assert world.ticket.assignee_id is None


@pytest.mark.django_db
def test_merchant_cannot_assign_from_the_change_form(client: Any, world: World) -> None:
    client.force_login(make_merchant(world.shop))
    form = client.get(change("ticket", world.ticket.pk)).context["adminform"].form
    assert "assignee" not in form.fields
    assert "status" in form.fields
    actions = {
        name for name, _label in client.get(changelist("ticket")).context["action_form"].fields["action"].choices
    }
    assert "set_status_solved" in actions
    assert actions.isdisjoint({"assign_to_me", "assign_to", "unassign", "merge_tickets", "reveal_card_keys"})


# --- secrets ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_card_keys_and_phones_are_masked_in_admin_pages(boss_client: Any, world: World) -> None:
    pages = [
        boss_client.get(change("order", world.order.pk)),
        boss_client.get(changelist("order")),
        boss_client.get(change("ticket", world.ticket.pk)),
        boss_client.get(changelist("customer")),
        boss_client.get(change("customer", world.customer.pk)),
    ]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert PLAIN_KEY not in html and "EFGH" not in html
        assert PLAIN_PHONE not in html
    assert MASKED_KEY in pages[0].content.decode()
    assert MASKED_PHONE in pages[3].content.decode()


@pytest.mark.django_db
def test_customer_phone_is_changed_through_customer_upsert(client: Any, world: World) -> None:
    client.force_login(make_user(is_staff=True, is_superuser=True))
    data = {"name": "李雷", "tier": "vip", "language": "zh-hans", "new_phone": "13900001111"}
    response = client.post(change("customer", world.customer.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    world.customer.refresh_from_db()
    assert world.customer.phone.reveal() == "13900001111"
    assert world.customer.tier == "vip"
    event = AuditEvent.objects.filter(action="customer.update", object_id=str(world.customer.pk)).latest("id")
    assert event.changes["phone"] == "(set)"
    assert "13900001111" not in str(event.changes)


@pytest.mark.django_db
def test_supervisor_may_set_a_phone_but_never_sees_it(boss_client: Any, world: World) -> None:
    page = boss_client.get(change("customer", world.customer.pk)).content.decode()
    assert "new_phone" in page
    assert MASKED_PHONE in page and PLAIN_PHONE not in page


@pytest.mark.django_db
def test_merchant_sees_customers_read_only(client: Any, world: World) -> None:
    client.force_login(make_merchant(world.shop))
    page = client.get(change("customer", world.customer.pk))
    assert page.status_code == 200 and "new_phone" not in page.content.decode()
    assert client.post(change("customer", world.customer.pk), {"name": "x"}).status_code == 403


# --- configuration ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_config_saves_and_deletes_are_audited(boss_client: Any, world: World, supervisor: Any) -> None:
    response = boss_client.post(reverse("admin:tickets_tag_add"), {"name": "refund", "color": "#ff0000"})
    assert response.status_code == 302
    tag = Tag.objects.get(name="refund")
    created = AuditEvent.objects.get(action="tag.create", object_id=str(tag.pk))
    assert created.actor_id == supervisor.pk and created.changes["name"] == "refund"

    data = {"name": "Payments VIP", "slug": world.queue.slug, "shop": "", "skills": "pay,refund"}
    data |= {"overflow_queue": "", "overflow_threshold": 5, "overflow_wait_minutes": 0, "is_active": "on"}
    assert boss_client.post(change("queue", world.queue.pk), data).status_code == 302
    update = AuditEvent.objects.get(action="queue.update", object_id=str(world.queue.pk))
    assert update.changes == {"name": "Payments VIP", "skills": ["pay", "refund"], "overflow_threshold": 5}

    reply = CannedReply.objects.create(title="t", shortcut="t", body="b")
    delete = reverse("admin:tickets_cannedreply_delete", args=[reply.pk])
    assert boss_client.post(delete, {"post": "yes"}).status_code == 302
    assert AuditEvent.objects.filter(action="cannedreply.delete", object_id=str(reply.pk)).exists()


@pytest.mark.django_db
def test_queue_self_overflow_is_a_field_error(boss_client: Any, world: World) -> None:
    data = {"name": "Payments", "slug": world.queue.slug, "skills": "", "overflow_queue": world.queue.pk}
    response = boss_client.post(change("queue", world.queue.pk), data | {"overflow_threshold": 1})
    assert "overflow_queue" in response.context["adminform"].form.errors


@pytest.mark.django_db
def test_supervisor_grants_a_queue_to_an_agent_and_it_is_audited(boss_client: Any, world: World) -> None:
    newcomer = make_agent(username="newcomer")
    page = boss_client.get(reverse("admin:tickets_queue_permissions", args=[world.queue.pk]))
    assert page.status_code == 200
    url = reverse("admin:tickets_queue_permissions_manage_user", args=[world.queue.pk, newcomer.pk])
    form = boss_client.get(url).context["form"]
    assert [code for code, _name in form.fields["permissions"].choices] == ["work_queue"]
    assert boss_client.post(url, {"permissions": ["work_queue"]}).status_code == 302
    newcomer = type(newcomer).objects.get(pk=newcomer.pk)
    assert newcomer.has_perm("tickets.work_queue", world.queue)
    event = AuditEvent.objects.get(action="queue.grant", object_id=str(world.queue.pk))
    assert event.changes == {"user": "newcomer", "added": ["work_queue"], "removed": []}


@pytest.mark.django_db
def test_agent_reads_canned_replies_of_reachable_shops_only(client: Any, world: World, agent: Any) -> None:
    mine = CannedReply.objects.create(title="mine", shortcut="mine", body="b", shop=world.shop)
    shared = CannedReply.objects.create(title="shared", shortcut="shared", body="b")
    CannedReply.objects.create(title="theirs", shortcut="theirs", body="b", shop=world.other_shop)
    client.force_login(agent)
    response = client.get(changelist("cannedreply"))
    assert set(response.context["cl"].result_list) == {mine, shared}
    assert client.post(change("cannedreply", mine.pk), {"title": "x"}).status_code == 403


@pytest.mark.django_db
def test_assignee_choices_are_desk_accounts_not_every_user(boss_client: Any, world: World, agent: Any) -> None:
    form = boss_client.get(change("ticket", world.ticket.pk)).context["adminform"].form
    assert agent in form.fields["assignee"].queryset
    assert make_user(Role.MERCHANT) not in form.fields["assignee"].queryset
