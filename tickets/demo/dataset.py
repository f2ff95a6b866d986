"""Demo customers and their orders, created through customer_upsert / order_upsert like a platform push."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from helpdesk.models import Shop
from tickets import services
from tickets.demo.catalog import (
    CNY_CHANNELS,
    CUSTOMER_COUNT,
    DEMO_PREFIX,
    EMAIL_DOMAINS,
    EN_FIRST,
    EN_LAST,
    ENGLISH_SHARE,
    ORDER_COUNT,
    ORDER_STATES,
    PRODUCTS,
    SHOPS,
    USD_CHANNELS,
    VIP_COUNT,
    ZH_GIVEN,
    ZH_SURNAMES,
    Product,
)
from tickets.models import Customer, Order

KEY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I, as card printers do
MOBILE_PREFIXES = ["138", "139", "136", "135", "158", "150", "186", "177", "188", "159"]
# The portal customer (customer1's Customer row) and the states of their first orders, so their tickets
# tell a known story on the customer pages.
PORTAL_EXTERNAL_ID = f"{DEMO_PREFIX}c001"
PORTAL_ORDERS = [("paid", "pending"), ("paid", "delivered"), ("paid", "delivered")]


@dataclass
class DemoOrder:
    """An order plus what the conversations quote from it (kept in memory: no decrypting later)."""

    order: Order
    customer: Customer
    product: Product
    keys: list[str]
    state: tuple[str, str]
    ordered_at: datetime


def weighted(rng: random.Random, pairs: list[tuple]) -> object:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def card_key(rng: random.Random, key_format: str) -> str:
    def chunk(n: int) -> str:
        return "".join(rng.choice(KEY_ALPHABET) for _ in range(n))

    if key_format == "16":
        return chunk(16)
    if key_format == "apple":
        return "X" + chunk(15)
    size, groups = (int(part) for part in key_format.split("x"))
    return "-".join(chunk(size) for _ in range(groups))


def _customer_fields(rng: random.Random, n: int, english: bool) -> dict[str, str]:
    if english:
        first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
        email = f"{first}.{last}{n}@{rng.choice(EMAIL_DOMAINS)}".lower()
        # Overseas buyers seldom leave a mainland number.
        phone = f"+86 {rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}" if rng.random() < 0.3 else ""
        return {"name": f"{first} {last}", "email": email, "phone": phone, "language": "en"}
    name = rng.choice(ZH_SURNAMES) + rng.choice(ZH_GIVEN)
    email = f"{rng.randrange(10**7, 10**10)}@{rng.choice(EMAIL_DOMAINS)}"
    phone = f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
    return {"name": name, "email": email, "phone": phone, "language": "zh-hans"}


def seed_customers(rng: random.Random, shops: dict[str, Shop]) -> list[Customer]:
    english = set(rng.sample(range(1, CUSTOMER_COUNT), round(CUSTOMER_COUNT * ENGLISH_SHARE)))
    vip = set(rng.sample(range(1, CUSTOMER_COUNT), VIP_COUNT))
    customers = []
    n = 0
    for spec in SHOPS:
        for _ in range(spec.customers):
            fields = _customer_fields(rng, n + 1, n in english)
            if n == 0:  # the portal customer, customer1 = Wei Zhang
                fields.update(name="张伟", email="customer1@carddesk.example.com")
            customers.append(
                services.customer_upsert(
                    shop=shops[spec.slug],
                    actor=None,
                    external_id=f"{DEMO_PREFIX}c{n + 1:03d}",
                    tier="vip" if n in vip else "normal",
                    **fields,
                )
            )
            n += 1
    return customers


def _order_times(rng: random.Random, now: datetime) -> datetime:
    # Most tickets are about recent orders: skew towards the last few days.
    return now - timedelta(minutes=int(rng.triangular(20, 30 * 24 * 60, 60)))


def _product_for(rng: random.Random, customer: Customer) -> Product:
    # Overseas buyers lean to USD gift cards, mainland buyers to CNY top-ups.
    weights = [
        (3 if p.currency == "USD" else 1) if customer.language == "en" else (1 if p.currency == "USD" else 3)
        for p in PRODUCTS
    ]
    return rng.choices(PRODUCTS, weights=weights)[0]


def seed_orders(rng: random.Random, shops: dict[str, Shop], customers: list[Customer]) -> list[DemoOrder]:
    prefixes = {shops[spec.slug].pk: spec.order_prefix for spec in SHOPS}
    # Every customer buys at least once, the rest at random.
    buyers = list(customers) + rng.choices(customers, k=ORDER_COUNT - len(customers))
    rng.shuffle(buyers)
    portal = next(c for c in customers if c.external_id == PORTAL_EXTERNAL_ID)
    buyers = [portal] * len(PORTAL_ORDERS) + [c for c in buyers if c is not portal][: ORDER_COUNT - len(PORTAL_ORDERS)]
    now = timezone.now().replace(second=0, microsecond=0)
    used_keys: set[str] = set()
    orders = []
    for n, customer in enumerate(buyers, start=1):
        product = _product_for(rng, customer)
        state = PORTAL_ORDERS[n - 1] if n <= len(PORTAL_ORDERS) else weighted(rng, ORDER_STATES)
        payment, delivery = state
        quantity = weighted(rng, [(1, 7), (2, 2), (3, 1)])
        if delivery == "partial":
            quantity = max(quantity, 2)
        ordered_at = _order_times(rng, now)
        paid = payment in {"paid", "refunded", "partially_refunded"}
        key_count = {"delivered": quantity, "partial": quantity - 1}.get(delivery, 0)
        keys = []
        while len(keys) < key_count:
            key = card_key(rng, product.key_format)
            if key not in used_keys:
                used_keys.add(key)
                keys.append(key)
        channel = weighted(rng, USD_CHANNELS if product.currency == "USD" else CNY_CHANNELS)
        order_no = f"{prefixes[customer.shop_id]}{timezone.localtime(ordered_at):%Y%m%d%H%M%S}{n:04d}"
        paid_at = ordered_at + timedelta(seconds=rng.randint(15, 120)) if paid else None
        order = services.order_upsert(
            shop=customer.shop,
            order_no=order_no,
            actor=None,
            customer=customer,
            product=product.name,
            quantity=quantity,
            amount=(product.price * quantity).quantize(Decimal("0.01")),
            currency=product.currency,
            payment_status=payment,
            payment_channel=channel,
            delivery_status=delivery,
            card_keys=keys,
            paid_at=paid_at,
            delivered_at=paid_at + timedelta(seconds=rng.randint(1, 8)) if paid_at and keys else None,
            # As the platform pushes it; order_upsert scrubs "cards" before storing.
            raw={
                "trade_no": f"{rng.randrange(10**17, 10**18)}",
                "pay_type": channel,
                "goods_name": product.name,
                "num": quantity,
                "cards": keys,
            },
        )
        orders.append(DemoOrder(order, customer, product, keys, state, ordered_at))
    return orders
