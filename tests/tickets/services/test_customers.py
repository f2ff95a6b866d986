"""customer_upsert / order_upsert / order_secrets_reveal: find-or-create per shop, secrets encrypted and masked."""

import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from helpdesk.models import AuditEvent
from tests.factories import make_agent, make_customer, make_merchant, make_ticket
from tickets import services
from tickets.errors import InvalidInput, NotAllowed, NotVisible
from tickets.models import Customer, CustomerTier, DeliveryStatus, Order, PaymentStatus
from tickets.services.customers import phone_digest, scrub_payload

KEY_1 = "ABCD-EFGH-IJKL-7890"
KEY_2 = "WXYZ-QRST-UVWX-1234"


def _raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 (fixed names)
        (value,) = cursor.fetchone()
    return value


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- customer_upsert -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_customer_is_created_then_found_again_by_external_id(shop):
    created = services.customer_upsert(shop=shop, actor=None, external_id=" u-100 ", name="张三")
    again = services.customer_upsert(shop=shop, actor=None, external_id="u-100", name="张三")
    assert again.pk == created.pk
    assert (again.external_id, again.name) == ("u-100", "张三")
    assert Customer.objects.count() == 1
    [event] = _events("customer.create")
    assert event.changes == {"external_id": "u-100", "name": "张三"}
    assert _events("customer.update") == []


@pytest.mark.django_db
def test_customer_without_external_id_is_found_by_normalised_email(shop):
    created = services.customer_upsert(shop=shop, actor=None, email="ZhangSan@Example.com ")
    assert created.email == "zhangsan@example.com"
    again = services.customer_upsert(shop=shop, actor=None, email="zhangsan@EXAMPLE.com")
    assert again.pk == created.pk
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_email_match_links_a_customer_who_had_no_external_id_yet(shop):
    created = services.customer_upsert(shop=shop, actor=None, email="buyer@example.com")
    linked = services.customer_upsert(shop=shop, actor=None, external_id="u-7", email="buyer@example.com")
    assert linked.pk == created.pk
    assert Customer.objects.get(pk=created.pk).external_id == "u-7"
    assert _events("customer.update")[0].changes == {"external_id": "u-7"}


@pytest.mark.django_db
def test_email_never_merges_two_customers_with_different_external_ids(shop):
    first = services.customer_upsert(shop=shop, actor=None, external_id="u-1", email="family@example.com")
    second = services.customer_upsert(shop=shop, actor=None, external_id="u-2", email="family@example.com")
    assert first.pk != second.pk
    assert Customer.objects.get(pk=first.pk).external_id == "u-1"


@pytest.mark.django_db
def test_the_same_external_id_in_two_shops_is_two_customers(shop, other_shop):
    ours = services.customer_upsert(shop=shop, actor=None, external_id="u-1")
    theirs = services.customer_upsert(shop=other_shop, actor=None, external_id="u-1")
    assert ours.pk != theirs.pk
    assert {ours.shop_id, theirs.shop_id} == {shop.pk, other_shop.pk}


@pytest.mark.django_db
def test_update_writes_only_changed_fields_and_shows_the_phone_as_set(shop):
    customer = services.customer_upsert(
        shop=shop, actor=None, external_id="u-1", name="张三", email="zs@example.com", language="zh-hans"
    )
    services.customer_upsert(
        shop=shop,
        actor=None,
        external_id="u-1",
        name="张三",
        email="zs@example.com",
        phone="13812345678",
        tier=CustomerTier.VIP,
    )
    [event] = _events("customer.update")
    assert event.changes == {"phone": "(set)", "tier": "vip"}
    assert "5678" not in json.dumps(event.changes)
    customer.refresh_from_db()
    assert (customer.name, customer.tier, customer.language) == ("张三", "vip", "zh-hans")


@pytest.mark.django_db
def test_same_values_again_write_no_audit_event(shop):
    values = {"external_id": "u-1", "name": "张三", "email": "zs@example.com", "phone": "13812345678", "tier": "vip"}
    customer = services.customer_upsert(shop=shop, actor=None, **values)
    updated_at = Customer.objects.get(pk=customer.pk).updated_at
    services.customer_upsert(shop=shop, actor=None, **values)
    services.customer_upsert(shop=shop, actor=None, external_id="u-1")  # nothing passed, nothing cleared
    assert _events("customer.update") == []
    stored = Customer.objects.get(pk=customer.pk)
    assert stored.updated_at == updated_at
    assert (stored.name, stored.email, stored.phone.reveal()) == ("张三", "zs@example.com", "13812345678")


@pytest.mark.django_db
def test_phone_is_encrypted_at_rest_masked_in_print_and_never_audited(shop):
    customer = services.customer_upsert(shop=shop, actor=None, external_id="u-1", phone="13812345678")
    raw = _raw_column("tickets_customer", "phone", customer.pk)
    assert raw.startswith("enc1:") and "13812345678" not in raw
    stored = Customer.objects.get(pk=customer.pk)
    assert str(stored.phone) == "138****5678"
    assert stored.phone.reveal() == "13812345678"
    assert _raw_column("tickets_customer", "phone_digest", customer.pk) == phone_digest("13812345678")
    [event] = _events("customer.create")
    assert event.changes == {"external_id": "u-1", "phone": "(set)"}  # the digest is not listed either


@pytest.mark.parametrize("spelling", ["+86 138-1234-5678", "8613812345678", "138 1234 5678", "(+86) 13812345678"])
def test_phone_digest_is_the_same_for_every_spelling_of_one_number(spelling):
    assert phone_digest(spelling) == phone_digest("13812345678")


def test_phone_digest_is_keyed_distinct_and_empty_for_no_number():
    digest = phone_digest("13812345678")
    assert len(digest) == 64 and "13812345678" not in digest
    assert digest != phone_digest("13812345679")
    assert phone_digest("") == phone_digest("n/a") == ""


@pytest.mark.django_db
def test_a_customer_is_found_by_any_spelling_of_their_phone(shop):
    customer = services.customer_upsert(shop=shop, actor=None, external_id="u-1", phone="+86 138-1234-5678")
    assert list(Customer.objects.filter(phone_digest=phone_digest("13812345678"))) == [customer]


@pytest.mark.django_db
def test_invalid_tier_is_refused_on_create(shop):
    with pytest.raises((ValidationError, InvalidInput)):
        services.customer_upsert(shop=shop, actor=None, external_id="u-1", tier="gold")
    assert Customer.objects.count() == 0
    assert _events("customer.create") == []


@pytest.mark.django_db
def test_invalid_tier_or_email_is_refused_on_update_as_on_create(shop):
    customer = services.customer_upsert(shop=shop, actor=None, external_id="u-1", email="ok@example.com")
    for bad in ({"tier": "gold"}, {"email": "not-an-email"}):
        with pytest.raises((ValidationError, InvalidInput)):
            services.customer_upsert(shop=shop, actor=None, external_id="u-1", **bad)
    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.tier, stored.email) == (CustomerTier.NORMAL, "ok@example.com")


# --- order_upsert ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_order_is_created_with_its_snapshot_and_audited_without_keys(shop):
    customer = make_customer(shop)
    order = services.order_upsert(
        shop=shop,
        order_no=" 202611220001 ",
        actor=None,
        customer=customer,
        product="Steam 100 元充值卡",
        quantity=2,
        amount="199.00",
        payment_status=PaymentStatus.PAID,
        card_keys=[KEY_1, KEY_2],
    )
    stored = Order.objects.get(pk=order.pk)
    assert (stored.order_no, stored.customer_id, stored.quantity, stored.amount) == (
        "202611220001",
        customer.pk,
        2,
        Decimal("199.00"),
    )
    assert stored.payment_status == PaymentStatus.PAID
    assert stored.delivery_status == DeliveryStatus.PENDING  # model default, not passed
    [event] = _events("order.create")
    assert event.changes["card_keys"] == "(set)"
    assert event.changes["amount"] == "199.00"
    audited = json.dumps(event.changes, ensure_ascii=False)
    assert "EFGH" not in audited and "QRST" not in audited


@pytest.mark.django_db
def test_order_update_changes_only_what_is_passed(shop):
    order = services.order_upsert(shop=shop, order_no="N-1", actor=None, product="Q币 50", amount=Decimal("50"))
    again = services.order_upsert(shop=shop, order_no="N-1", actor=None, delivery_status=DeliveryStatus.DELIVERED)
    assert again.pk == order.pk
    stored = Order.objects.get(pk=order.pk)
    assert (stored.product, stored.amount, stored.delivery_status) == ("Q币 50", Decimal("50.00"), "delivered")
    [event] = _events("order.update")
    assert event.changes == {"delivery_status": "delivered"}


@pytest.mark.django_db
def test_order_with_the_same_values_writes_no_audit_event(shop):
    customer = make_customer(shop)
    values = {"customer": customer, "product": "Q币 50", "amount": "50", "card_keys": [KEY_1], "quantity": 1}
    services.order_upsert(shop=shop, order_no="N-1", actor=None, **values)
    services.order_upsert(shop=shop, order_no="N-1", actor=None, **{**values, "amount": Decimal("50.00")})
    assert _events("order.update") == []


@pytest.mark.django_db
def test_new_card_keys_are_audited_by_presence_only(shop):
    services.order_upsert(shop=shop, order_no="N-1", actor=None, card_keys=[KEY_1])
    services.order_upsert(shop=shop, order_no="N-1", actor=None, card_keys=[KEY_1, KEY_2])
    [event] = _events("order.update")
    assert event.changes == {"card_keys": "(set)"}
    assert Order.objects.get(order_no="N-1").card_key_count == 2


@pytest.mark.django_db
def test_order_numbers_are_unique_per_shop_not_globally(shop, other_shop):
    ours = services.order_upsert(shop=shop, order_no="N-1", actor=None, product="A")
    theirs = services.order_upsert(shop=other_shop, order_no="N-1", actor=None, product="B")
    again = services.order_upsert(shop=shop, order_no="N-1", actor=None)
    assert ours.pk != theirs.pk and again.pk == ours.pk
    assert Order.objects.filter(order_no="N-1").count() == 2
    assert Order.objects.get(pk=ours.pk).product == "A"


@pytest.mark.django_db
def test_card_keys_are_encrypted_at_rest_and_masked_in_print(shop):
    order = services.order_upsert(shop=shop, order_no="N-1", actor=None, card_keys=[f"  {KEY_1} ", "", "  "])
    raw = _raw_column("tickets_order", "card_keys", order.pk)
    assert raw.startswith("enc1:") and "EFGH" not in raw and "7890" not in raw
    stored = Order.objects.get(pk=order.pk)
    assert str(stored.card_keys) == "ABCD-****-****-7890"
    assert f"{stored.card_keys}" == "ABCD-****-****-7890" and "EFGH" not in repr(stored.card_keys)
    assert stored.card_keys.reveal() == KEY_1  # blanks dropped, whitespace trimmed
    assert stored.card_key_count == 1


@pytest.mark.django_db
def test_several_card_keys_are_masked_line_by_line(shop):
    order = services.order_upsert(shop=shop, order_no="N-1", actor=None, card_keys=[KEY_1, KEY_2])
    assert str(Order.objects.get(pk=order.pk).card_keys) == "ABCD-****-****-7890\nWXYZ-****-****-1234"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(
            {"order_no": "N-1", "card_key": KEY_1, "cdk": "X", "卡密": "Y", "CardNo": "Z"},
            {
                "order_no": "N-1",
                "card_key": "[removed]",
                "cdk": "[removed]",
                "卡密": "[removed]",
                "CardNo": "[removed]",
            },
            id="flat-keys",
        ),
        pytest.param(
            {"buyer": {"nick": "zs", "password": "p", "支付密码": "1"}, "pin": "0000"},
            {"buyer": {"nick": "zs", "password": "[removed]", "支付密码": "[removed]"}, "pin": "[removed]"},
            id="nested-dict",
        ),
        pytest.param(
            {"items": [{"name": "A", "redeem_code": KEY_1}, {"name": "B", "secret": "s"}], "tags": ["a", "b"]},
            {
                "items": [{"name": "A", "redeem_code": "[removed]"}, {"name": "B", "secret": "[removed]"}],
                "tags": ["a", "b"],
            },
            id="list-of-dicts",
        ),
        pytest.param(
            {"card_keys": [{"no": KEY_1}, {"no": KEY_2}], "delivery": {"cdk_list": {"a": KEY_1}}},
            {"card_keys": "[removed]", "delivery": {"cdk_list": "[removed]"}},
            id="secret-key-holding-a-container",
        ),
        pytest.param([{"key": 1}, "plain", 3], [{"key": "[removed]"}, "plain", 3], id="top-level-list"),
        pytest.param("just text", "just text", id="scalar"),
    ],
)
def test_scrub_payload_removes_card_keys_codes_and_passwords_at_any_depth(payload, expected):
    assert scrub_payload(payload) == expected


@pytest.mark.django_db
def test_raw_payload_is_stored_scrubbed(shop):
    payload = {"order_no": "N-1", "status": "paid", "items": [{"sku": "S1", "card_key": KEY_1}], "卡密": KEY_2}
    order = services.order_upsert(shop=shop, order_no="N-1", actor=None, raw=payload)
    assert Order.objects.get(pk=order.pk).raw == {
        "order_no": "N-1",
        "status": "paid",
        "items": [{"sku": "S1", "card_key": "[removed]"}],
        "卡密": "[removed]",
    }
    stored_text = json.dumps(_raw_column("tickets_order", "raw", order.pk), ensure_ascii=False)
    assert "EFGH" not in stored_text and "QRST" not in stored_text
    assert payload["卡密"] == KEY_2  # the caller's dict is not mutated


@pytest.mark.django_db
@pytest.mark.parametrize("order_no", ["", "   ", None, "x" * 65])
def test_order_number_must_be_1_to_64_characters(shop, order_no):
    with pytest.raises(InvalidInput) as err:
        services.order_upsert(shop=shop, order_no=order_no, actor=None, product="A")
    assert err.value.field == "order_no"
    assert Order.objects.count() == 0
    assert _events("order.create") == []


@pytest.mark.django_db
def test_a_64_character_order_number_is_accepted(shop):
    assert services.order_upsert(shop=shop, order_no="x" * 64, actor=None).order_no == "x" * 64


@pytest.mark.django_db
def test_a_customer_of_another_shop_is_refused_for_an_order(shop, other_shop):
    stranger = make_customer(other_shop, external_id="moon-1")
    with pytest.raises(InvalidInput) as err:
        services.order_upsert(shop=shop, order_no="N-1", actor=None, customer=stranger)
    assert err.value.field == "customer"
    assert Order.objects.count() == 0


# --- order_secrets_reveal --------------------------------------------------------------------------


@pytest.fixture
def keyed_ticket(shop, queue):
    customer = make_customer(shop)
    order = services.order_upsert(shop=shop, order_no="N-9", actor=None, customer=customer, card_keys=[KEY_1, KEY_2])
    return make_ticket(shop=shop, queue=queue, customer=customer, order=order)


@pytest.mark.django_db
def test_supervisor_sees_the_plain_keys_and_the_reveal_is_audited_without_them(keyed_ticket, supervisor):
    assert services.order_secrets_reveal(ticket=keyed_ticket, actor=supervisor) == [KEY_1, KEY_2]
    [event] = _events("order.card_keys_revealed")
    assert (event.actor_id, event.object_type, event.object_id) == (
        supervisor.pk,
        "tickets.order",
        str(keyed_ticket.order_id),
    )
    assert event.changes == {"ticket": keyed_ticket.reference, "count": 2}
    audited = json.dumps(event.changes) + event.object_repr
    assert "EFGH" not in audited and "QRST" not in audited


@pytest.mark.django_db
def test_every_reveal_is_audited_again(keyed_ticket, supervisor):
    services.order_secrets_reveal(ticket=keyed_ticket, actor=supervisor)
    services.order_secrets_reveal(ticket=keyed_ticket, actor=supervisor)
    assert len(_events("order.card_keys_revealed")) == 2


@pytest.mark.django_db
def test_nothing_to_reveal_returns_an_empty_list_without_audit(ticket, supervisor):
    assert services.order_secrets_reveal(ticket=ticket, actor=supervisor) == []
    assert _events("order.card_keys_revealed") == []


@pytest.mark.django_db
def test_agent_of_the_queue_without_the_permission_is_not_allowed(keyed_ticket, agent):
    with pytest.raises(NotAllowed):
        services.order_secrets_reveal(ticket=keyed_ticket, actor=agent)
    assert _events("order.card_keys_revealed") == []


@pytest.mark.django_db
def test_merchant_of_the_shop_without_the_permission_is_not_allowed(keyed_ticket):
    merchant = make_merchant(keyed_ticket.shop, owner=True, username="owner")
    with pytest.raises(NotAllowed):
        services.order_secrets_reveal(ticket=keyed_ticket, actor=merchant)


@pytest.mark.django_db
def test_outsider_gets_not_visible(keyed_ticket, other_queue):
    outsider = make_agent(other_queue, username="outsider")
    with pytest.raises(NotVisible):
        services.order_secrets_reveal(ticket=keyed_ticket, actor=outsider)
    assert _events("order.card_keys_revealed") == []
