"""The core's admin: the audit trail for supervisors only, shops scoped by ShopPolicy and audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from helpdesk.audit import audit_checkpoint_create
from helpdesk.models import AuditEvent, Shop
from tests.factories import make_agent, make_merchant, make_ticket, make_user
from tickets.models import Queue


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def boss_client(client: Any, supervisor: Any) -> Any:
    client.force_login(supervisor)
    return client


@pytest.mark.django_db
def test_audit_trail_pages_load_for_a_supervisor_read_only(boss_client: Any, ticket: Any) -> None:
    checkpoint = audit_checkpoint_create()[0]
    event = AuditEvent.objects.get(action="ticket.create")
    assert boss_client.get(reverse("admin:helpdesk_auditevent_changelist")).status_code == 200
    page = boss_client.get(reverse("admin:helpdesk_auditevent_change", args=[event.pk]))
    assert page.status_code == 200
    assert event.hash in page.content.decode() and event.prev_hash in page.content.decode()
    assert boss_client.get(reverse("admin:helpdesk_auditcheckpoint_changelist")).status_code == 200
    assert boss_client.get(reverse("admin:helpdesk_auditcheckpoint_change", args=[checkpoint.pk])).status_code == 200
    # Append-only: no add, change or delete through admin.
    assert boss_client.get(reverse("admin:helpdesk_auditevent_add")).status_code == 403
    assert boss_client.post(reverse("admin:helpdesk_auditevent_change", args=[event.pk]), {}).status_code == 403
    assert (
        boss_client.post(reverse("admin:helpdesk_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code
        == 403
    )


@pytest.mark.django_db
def test_audit_trail_filters_and_searches(boss_client: Any, ticket: Any) -> None:
    url = reverse("admin:helpdesk_auditevent_changelist")
    by_object = boss_client.get(url, {"q": str(ticket.pk), "object_type": "tickets.ticket"})
    assert [e.action for e in by_object.context["cl"].result_list] == ["ticket.create"]
    by_request = boss_client.get(url, {"q": "test-request-0001"})
    assert by_request.context["cl"].result_count >= 1
    assert boss_client.get(url, {"action": "ticket.create", "actor": "system"}).status_code == 200


@pytest.mark.django_db
def test_audit_chain_verification_is_reported(boss_client: Any, ticket: Any) -> None:
    verify = reverse("admin:helpdesk_auditevent_verify")
    assert boss_client.get(verify).status_code == 405
    response = boss_client.post(verify)
    assert response.status_code == 302
    assert any("OK" in note for note in messages_of(response))


@pytest.mark.django_db
def test_merchants_and_agents_do_not_see_the_audit_trail(client: Any, shop: Shop, ticket: Any, agent: Any) -> None:
    for user in (make_merchant(shop), agent):
        client.force_login(user)
        assert client.get(reverse("admin:helpdesk_auditevent_changelist")).status_code == 403
        event = AuditEvent.objects.first()
        assert client.get(reverse("admin:helpdesk_auditevent_change", args=[event.pk])).status_code == 403
        assert client.post(reverse("admin:helpdesk_auditevent_verify")).status_code == 404


@pytest.mark.django_db
def test_shop_pages_load_for_a_supervisor_with_the_secret_masked(boss_client: Any, shop: Shop) -> None:
    assert boss_client.get(reverse("admin:helpdesk_shop_changelist")).status_code == 200
    page = boss_client.get(reverse("admin:helpdesk_shop_change", args=[shop.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "whsec-test-0123456789" not in html
    assert "permissions/" in html  # guardian's object-permissions link


@pytest.mark.django_db
def test_merchant_sees_only_their_shop(client: Any, shop: Shop, other_shop: Shop) -> None:
    client.force_login(make_merchant(shop))
    response = client.get(reverse("admin:helpdesk_shop_changelist"))
    assert list(response.context["cl"].result_list) == [shop]
    assert client.get(reverse("admin:helpdesk_shop_change", args=[other_shop.pk])).status_code == 404
    own = client.get(reverse("admin:helpdesk_shop_change", args=[shop.pk]))
    assert own.status_code == 200
    assert "permissions/" not in own.content.decode()
    assert client.post(reverse("admin:helpdesk_shop_change", args=[shop.pk]), {"name": "x"}).status_code == 403
    assert client.get(reverse("admin:helpdesk_shop_permissions", args=[shop.pk])).status_code == 302


@pytest.mark.django_db
def test_shop_owner_edits_their_shop_and_it_is_audited(client: Any, shop: Shop) -> None:
    owner = make_merchant(shop, owner=True)
    client.force_login(owner)
    url = reverse("admin:helpdesk_shop_change", args=[shop.pk])
    form = client.get(url).context["adminform"].form
    assert {"slug", "is_active"}.isdisjoint(form.fields)
    data = {"name": "Star Cards 星卡", "default_language": "zh-hans", "order_callback_url": "https://star.example/o"}
    response = client.post(url, data)
    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.name == "Star Cards 星卡" and shop.is_active
    event = AuditEvent.objects.get(action="shop.update", object_id=str(shop.pk))
    assert event.actor_id == owner.pk
    assert event.changes == {"name": "Star Cards 星卡", "order_callback_url": "https://star.example/o"}


@pytest.mark.django_db
def test_supervisor_grants_shop_access_on_the_object_permission_page(boss_client: Any, shop: Shop) -> None:
    staff = make_user(username="shop-staff", is_staff=True)
    assert boss_client.get(reverse("admin:helpdesk_shop_permissions", args=[shop.pk])).status_code == 200
    url = reverse("admin:helpdesk_shop_permissions_manage_user", args=[shop.pk, staff.pk])
    choices = {code for code, _name in boss_client.get(url).context["form"].fields["permissions"].choices}
    assert choices == {"access_shop", "manage_shop"}
    assert boss_client.post(url, {"permissions": ["access_shop"]}).status_code == 302
    staff = type(staff).objects.get(pk=staff.pk)
    assert staff.has_perm("helpdesk.access_shop", shop)
    assert AuditEvent.objects.get(action="shop.grant").changes["added"] == ["access_shop"]

    # A browser posts its CSRF token even with nothing selected; an empty POST would not bind the form.
    assert boss_client.post(url, {"csrfmiddlewaretoken": "x"}).status_code == 302
    staff = type(staff).objects.get(pk=staff.pk)
    assert not staff.has_perm("helpdesk.access_shop", shop)
    assert AuditEvent.objects.filter(action="shop.grant").latest("id").changes["removed"] == ["access_shop"]


@pytest.mark.django_db
def test_group_grant_on_a_queue_lets_its_members_work_it(boss_client: Any, queue: Queue, shop: Shop) -> None:
    from django.contrib.auth.models import Group

    team = Group.objects.create(name="Payments team")
    member = make_agent(username="member")
    member.groups.add(team)
    ticket = make_ticket(shop=shop, queue=queue)
    url = reverse("admin:tickets_queue_permissions_manage_group", args=[queue.pk, team.pk])
    assert boss_client.post(url, {"permissions": ["work_queue"]}).status_code == 302
    assert AuditEvent.objects.get(action="queue.grant").changes["group"] == "Payments team"
    from tickets.permissions import TicketPolicy

    member = type(member).objects.get(pk=member.pk)
    assert TicketPolicy.can_work(member, ticket)
