"""Customers and their orders: upserted from whatever channel or platform callback brings them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from helpdesk.audit import audit_record
from helpdesk.crypto import get_cipher
from helpdesk.models import Shop
from tickets.errors import InvalidInput
from tickets.models import Customer, Order

_SECRET_KEY_NAMES = re.compile(r"card|key|code|cdk|secret|password|passwd|pin|卡密|密码", re.IGNORECASE)


def normalise_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def phone_digest(phone: str) -> str:
    digits = normalise_phone(phone)
    return get_cipher().blind_index(digits) if digits else ""


@transaction.atomic
def customer_upsert(
    *,
    shop: Shop,
    actor: AbstractBaseUser | None,
    external_id: str = "",
    name: str = "",
    email: str = "",
    phone: str = "",
    tier: str | None = None,
    language: str | None = None,
) -> Customer:
    """Find the customer by platform id (else by e-mail) within the shop, create or update them."""
    external_id = (external_id or "").strip()[:100]
    email = (email or "").strip().lower()
    customer = None
    if external_id:
        customer = Customer.objects.select_for_update().filter(shop=shop, external_id=external_id).first()
    if customer is None and email:
        customer = (
            Customer.objects.select_for_update()
            .filter(shop=shop, email=email)
            .filter(external_id__in=["", external_id])
            .order_by("-id")
            .first()
        )
    wanted: dict[str, Any] = {}
    if external_id:
        wanted["external_id"] = external_id
    if name:
        wanted["name"] = name.strip()[:120]
    if email:
        wanted["email"] = email
    if phone:
        wanted["phone"] = phone.strip()
        wanted["phone_digest"] = phone_digest(phone)
    if tier:
        wanted["tier"] = tier
    if language:
        wanted["language"] = language
    if customer is None:
        customer = Customer(shop=shop, **wanted)
        _validate(customer, exclude=["user", "phone"])
        customer.save()
        audit_record(actor=actor, action="customer.create", obj=customer, changes=_described(wanted))
        return customer
    changed = {}
    for field, value in wanted.items():
        current = getattr(customer, field)
        current_plain = current.reveal() if hasattr(current, "reveal") else current
        if current_plain != value:
            changed[field] = value
            setattr(customer, field, value)
    if changed:
        _validate(customer, exclude=["user", "phone"])
        customer.save(update_fields=[*changed, "updated_at"])
        audit_record(actor=actor, action="customer.update", obj=customer, changes=_described(changed))
    return customer


def _validate(instance, *, exclude: list[str]) -> None:
    """Model validation as a domain error naming the first bad field."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise InvalidInput(f"{field}: {' '.join(messages)}", field=field) from error


def _described(values: dict[str, Any]) -> dict[str, Any]:
    """What the audit trail may store: secrets by presence, never by value."""
    return {
        key: ("(set)" if key in {"phone", "phone_digest", "card_keys"} else value)
        for key, value in values.items()
        if key != "phone_digest"
    }


def scrub_payload(payload: Any) -> Any:
    """Drop card keys, codes and passwords from a platform payload before it is stored as context."""
    if isinstance(payload, dict):
        return {
            key: ("[removed]" if _SECRET_KEY_NAMES.search(str(key)) else scrub_payload(value))
            for key, value in payload.items()
        }
    if isinstance(payload, list):
        return [scrub_payload(item) for item in payload]
    return payload


@transaction.atomic
def order_upsert(
    *,
    shop: Shop,
    order_no: str,
    actor: AbstractBaseUser | None,
    customer: Customer | None = None,
    product: str | None = None,
    quantity: int | None = None,
    amount: Decimal | str | None = None,
    currency: str | None = None,
    payment_status: str | None = None,
    payment_channel: str | None = None,
    delivery_status: str | None = None,
    card_keys: Sequence[str] | None = None,
    paid_at: datetime | None = None,
    delivered_at: datetime | None = None,
    raw: dict | None = None,
) -> Order:
    """Create or refresh the shop's snapshot of an order; card keys are encrypted, the raw payload scrubbed."""
    order_no = (order_no or "").strip()
    if not order_no or len(order_no) > 64:
        raise InvalidInput(_("Order numbers are 1 to 64 characters."), field="order_no")
    if customer is not None and customer.shop_id != shop.pk:
        raise InvalidInput(_("The customer belongs to another shop."), field="customer")
    values: dict[str, Any] = {
        "customer": customer,
        "product": product,
        "quantity": quantity,
        "amount": Decimal(str(amount)) if amount is not None else None,
        "currency": currency,
        "payment_status": payment_status,
        "payment_channel": payment_channel,
        "delivery_status": delivery_status,
        "card_keys": "\n".join(k.strip() for k in card_keys if k.strip()) if card_keys is not None else None,
        "paid_at": paid_at,
        "delivered_at": delivered_at,
        "raw": scrub_payload(raw) if raw is not None else None,
    }
    values = {k: v for k, v in values.items() if v is not None}
    order = Order.objects.select_for_update().filter(shop=shop, order_no=order_no).first()
    if order is None:
        order = Order(shop=shop, order_no=order_no, **values)
        _validate(order, exclude=["customer", "card_keys"])
        order.save()
        audit_record(actor=actor, action="order.create", obj=order, changes=_described(values))
        return order
    changed = {}
    for field, value in values.items():
        current = getattr(order, field + "_id" if field == "customer" else field)
        value_cmp = value.pk if field == "customer" else value
        if hasattr(current, "reveal"):
            current = current.reveal()
        if current != value_cmp:
            changed[field] = value
            setattr(order, field, value)
    if changed:
        _validate(order, exclude=["customer", "card_keys"])
        order.save(update_fields=[*changed, "updated_at"])
        audit_record(actor=actor, action="order.update", obj=order, changes=_described(changed))
    return order
