import pytest

from helpdesk.audit import audit_chain_verify
from helpdesk.models import AuditEvent
from tests.factories import make_customer, make_ticket
from tickets import services
from tickets.errors import InvalidInput
from tickets.models import Message, Status, Ticket


@pytest.mark.django_db
def test_create_assigns_reference_first_message_and_audit(shop, queue):
    customer = make_customer(shop)
    ticket = services.ticket_create(
        shop=shop,
        actor=None,
        customer=customer,
        subject="付款成功但没有收到卡密",
        body="订单 202611220001 已付款，卡密没到。",
        queue=queue,
        tags=["payment", "payment", " "],
    )
    assert ticket.reference.startswith("T-") and len(ticket.reference) == 8
    assert ticket.status == Status.NEW
    assert ticket.last_seq == 1
    message = Message.objects.get(ticket=ticket)
    assert (message.seq, message.author_kind, message.is_internal) == (1, "customer", False)
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["payment"]
    event = AuditEvent.objects.get(action="ticket.create", object_id=str(ticket.pk))
    assert event.request_id == "test-request-0001"
    assert event.changes["tags"] == ["payment"]
    assert audit_chain_verify().ok


@pytest.mark.django_db
def test_references_are_unique_and_increasing(shop):
    first, second = make_ticket(shop=shop), make_ticket(shop=shop)
    assert first.reference < second.reference
    assert Ticket.objects.filter(reference=first.reference).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("subject", {"subject": "  "}),
        ("subject", {"subject": "x" * 201}),
        ("body", {"body": "   "}),
        ("channel", {"channel": "fax"}),
        ("priority", {"priority": "extreme"}),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(shop, field, kwargs):
    customer = make_customer(shop)
    params = {"subject": "卡密无效", "body": "提示已被使用", **kwargs}
    with pytest.raises(InvalidInput) as err:
        services.ticket_create(shop=shop, actor=None, customer=customer, **params)
    assert err.value.field == field
    assert Ticket.objects.count() == 0
    assert not AuditEvent.objects.filter(action="ticket.create").exists()


@pytest.mark.django_db
def test_customer_of_another_shop_is_refused(shop, other_shop):
    customer = make_customer(other_shop)
    with pytest.raises(InvalidInput) as err:
        services.ticket_create(shop=shop, actor=None, customer=customer, subject="s", body="b")
    assert err.value.field == "customer"
