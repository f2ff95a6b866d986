"""`manage.py seed_demo`: a realistic demo desk, created through the services, idempotent, never in production."""

import io
import re

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import F
from guardian.shortcuts import get_objects_for_user

from helpdesk.audit import audit_chain_verify
from helpdesk.models import AuditEvent, Shop
from helpdesk.roles import GROUP_NAMES, Role
from tickets.models import CannedReply, Category, Customer, Message, Order, Queue, Status, Tag, Ticket
from tickets.permissions import TicketPolicy

DEMO_PASSWORD = "demo-pass-for-tests"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the module, inside a transaction rolled back afterwards.

    Each test's own transaction nests in it as a savepoint, so tests stay isolated from each other and
    nothing is left in the reused test database.
    """
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEMO_PASSWORD", DEMO_PASSWORD)
        outer = transaction.atomic()
        outer.__enter__()
        try:
            out = io.StringIO()
            call_command("seed_demo", stdout=out)
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _snapshot() -> dict[str, int]:
    models = [Shop, Queue, Category, CannedReply, Customer, Order, Ticket, Message, Tag, AuditEvent, get_user_model()]
    return {model.__name__: model.objects.count() for model in models}


@pytest.mark.django_db
def test_refuses_when_demo_data_is_not_allowed(settings):
    settings.DEMO_DATA_ALLOWED = False
    before = _snapshot()
    with pytest.raises(CommandError, match="DEMO_DATA_ALLOWED"):
        call_command("seed_demo", stdout=io.StringIO())
    assert _snapshot() == before


@pytest.mark.django_db
def test_prints_a_summary_of_what_exists(seeded):
    assert "Demo data created" in seeded
    assert re.search(r"tickets\s+300", seeded)
    assert "customer1" in seeded
    assert DEMO_PASSWORD not in seeded  # a password from the environment is not echoed


@pytest.mark.django_db
def test_creates_the_demo_volumes(seeded):
    assert Shop.objects.count() == 2
    assert all(shop.widget_secret for shop in Shop.objects.all())
    assert Queue.objects.count() == 5
    assert Queue.objects.filter(is_vip=True).count() == 1
    assert Customer.objects.count() == 50
    assert 6 <= Customer.objects.filter(tier="vip").count() <= 10
    assert Order.objects.count() == 200
    assert Ticket.objects.count() == 300
    assert set(Ticket.objects.values_list("status", flat=True)) == set(Status.values)
    assert Category.objects.filter(parent__isnull=False).exists()
    assert not Category.objects.filter(default_queue__isnull=True).exists()
    assert {"未到账", "重复扣款", "卡密无效", "vip", "refund"} <= set(Tag.objects.values_list("name", flat=True))


@pytest.mark.django_db
def test_demo_users_log_in_with_their_roles_and_grants(seeded):
    expected_roles = {
        "supervisor": Role.SUPERVISOR,
        **{f"agent{n}": Role.AGENT for n in range(1, 5)},
        "merchant1": Role.MERCHANT,
        "merchant2": Role.MERCHANT,
        "customer1": Role.CUSTOMER,
    }
    for username, role in expected_roles.items():
        user = authenticate(username=username, password=DEMO_PASSWORD)
        assert user is not None, username
        assert user.groups.filter(name=GROUP_NAMES[role]).exists(), username
        assert user.is_staff == (role != Role.CUSTOMER)
    assert get_user_model().objects.get(username="supervisor").is_superuser
    for n in range(1, 5):
        agent = get_user_model().objects.get(username=f"agent{n}")
        queues = get_objects_for_user(agent, "tickets.work_queue", klass=Queue, accept_global_perms=False)
        assert 1 <= queues.count() <= 3
        profile = agent.agent_profile
        assert profile.display_name and profile.max_concurrent_chats > 0
        assert set(profile.skills) == {skill for queue in queues for skill in queue.skills}
    for username, slug in (("merchant1", "star-cards"), ("merchant2", "moon-codes")):
        merchant = get_user_model().objects.get(username=username)
        shop = Shop.objects.get(slug=slug)
        assert merchant.has_perm("helpdesk.access_shop", shop) and merchant.has_perm("helpdesk.manage_shop", shop)
        assert set(TicketPolicy.visible_to(merchant).values_list("shop_id", flat=True)) == {shop.pk}
    portal = get_user_model().objects.get(username="customer1")
    assert TicketPolicy.visible_to(portal).count() == Ticket.objects.filter(customer__user=portal).count() >= 3


@pytest.mark.django_db
def test_conversations_are_in_both_languages_and_threaded(seeded):
    english = Ticket.objects.filter(language="en").count()
    assert 0.2 * 300 <= english <= 0.4 * 300
    assert not Ticket.objects.exclude(language=F("customer__language")).exists()
    bodies = list(Message.objects.filter(is_internal=False).values_list("body", flat=True))
    assert sum(bool(CJK.search(b)) for b in bodies) > sum(not CJK.search(b) for b in bodies) > 100
    assert Message.objects.filter(is_internal=True).exists()
    for ticket in Ticket.objects.exclude(status=Status.NEW).select_related("customer", "assignee"):
        assert TicketPolicy.can_work(ticket.assignee, ticket), ticket.reference
    order_tickets = Ticket.objects.filter(order__isnull=False).select_related("order")
    assert order_tickets.count() > 200
    for ticket in order_tickets:
        assert ticket.order.customer_id == ticket.customer_id
        assert ticket.order.order_no in ticket.messages.get(seq=1).body


@pytest.mark.django_db
def test_card_keys_are_encrypted_at_rest_and_never_shown_plain(seeded):
    with connection.cursor() as cursor:
        cursor.execute("SELECT card_keys FROM tickets_order WHERE card_keys <> ''")
        stored = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT phone FROM tickets_customer WHERE phone <> ''")
        phones = [row[0] for row in cursor.fetchall()]
    assert len(stored) > 100 and all(value.startswith("enc1:") for value in stored)
    assert phones and all(value.startswith("enc1:") for value in phones)
    delivered = Order.objects.exclude(card_keys="")
    for order in delivered:
        plain = order.card_keys.reveal().splitlines()
        assert 1 <= len(plain) <= 3
        assert "*" in str(order.card_keys) and not any(key in str(order.card_keys) for key in plain)
        assert order.raw["cards"] == "[removed]"
    for ticket in Ticket.objects.filter(order__in=delivered).select_related("order"):
        keys = ticket.order.card_keys.reveal().splitlines()
        for body in ticket.messages.values_list("body", flat=True):
            assert not any(key in body for key in keys), ticket.reference


@pytest.mark.django_db
def test_canned_replies_in_both_languages_with_placeholders(seeded):
    assert CannedReply.objects.filter(language="zh-hans").count() >= 8
    assert CannedReply.objects.filter(language="en").count() >= 6
    bodies = list(CannedReply.objects.values_list("body", flat=True))
    assert all("{customer.name}" in body for body in bodies)
    assert sum("{order.order_no}" in body for body in bodies) >= 10


@pytest.mark.django_db
def test_every_write_is_audited_and_the_chain_verifies(seeded):
    assert audit_chain_verify().ok
    assert AuditEvent.objects.filter(action="ticket.create").count() == 300
    assert AuditEvent.objects.filter(action="order.create").count() == 200
    assert AuditEvent.objects.filter(action="ticket.reply", actor__username__startswith="agent").exists()
    labels = set(AuditEvent.objects.values_list("actor_label", flat=True))
    assert "seed_demo" in labels and labels <= {"seed_demo", "supervisor", "customer1"} | {
        f"{prefix}{n}" for prefix in ("agent", "merchant") for n in range(1, 5)
    }


@pytest.mark.django_db
def test_a_second_run_adds_nothing_and_restores_passwords(seeded):
    agent = get_user_model().objects.get(username="agent1")
    agent.set_password("changed-by-someone")
    agent.save(update_fields=["password"])
    before = _snapshot()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "already present" in out.getvalue()
    after = _snapshot()
    assert after.pop("AuditEvent") == before.pop("AuditEvent") + 1  # the password reset, nothing else
    assert after == before
    assert AuditEvent.objects.filter(action="user.password_reset", object_id=str(agent.pk)).exists()
    assert authenticate(username="agent1", password=DEMO_PASSWORD) is not None
    assert audit_chain_verify().ok
