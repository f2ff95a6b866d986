"""Demo tickets: each one a conversation played through the services, as customers and agents would.

A plan picks the category, the customer's language, the order (of the same customer, in a state that fits
the complaint) and the status the thread ends in; `play` then posts the turns and moves the ticket along
the allowed transitions (tickets.services.TRANSITIONS).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.utils import timezone

from tickets import services
from tickets.demo import content_en, content_zh
from tickets.demo.catalog import (
    CATEGORY_ORDER_STATES,
    CATEGORY_PRIORITY,
    CATEGORY_TAGS,
    CHANNEL_NAMES,
    DEFAULT_PRIORITY,
    FINAL_STATUSES,
    TICKET_CHANNELS,
    TICKET_COUNT,
    TICKET_MIX,
    VIP_PRIORITY,
)
from tickets.demo.dataset import PORTAL_EXTERNAL_ID, DemoOrder, weighted
from tickets.demo.script import Phrasebook, pick
from tickets.demo.setup import Cast
from tickets.models import Customer, Status, Ticket

PHRASEBOOKS = {"zh-hans": content_zh.PHRASEBOOK, "en": content_en.PHRASEBOOK}
# Categories where the shop's owner sometimes adds a note (restock, re-delivery, payouts).
MERCHANT_CATEGORIES = {
    "delivery-card-key-missing",
    "product-invalid-key",
    "product-out-of-stock",
    "merchant-settlement",
}
# The portal customer's own tickets: (category, index of their order, final status).
PORTAL_TICKETS = [
    ("payment-not-received", 0, "open"),
    ("product-invalid-key", 1, "solved"),
    ("how-to-redeem", 2, "closed"),
]


@dataclass
class Plan:
    category: str
    customer: Customer
    order: DemoOrder | None
    status: str


def plan_tickets(rng: random.Random, customers: list[Customer], orders: list[DemoOrder]) -> list[Plan]:
    portal_orders = [o for o in orders if o.customer.external_id == PORTAL_EXTERNAL_ID]
    plans = [Plan(cat, portal_orders[i].customer, portal_orders[i], status) for cat, i, status in PORTAL_TICKETS]
    mix = dict(TICKET_MIX)
    for category, _i, _status in PORTAL_TICKETS:
        mix[category] -= 1
    categories = [slug for slug, count in mix.items() for _ in range(count)]
    rng.shuffle(categories)
    used: set[int] = {p.order.order.pk for p in plans if p.order}
    by_language = {lang: [c for c in customers if c.language == lang] for lang in PHRASEBOOKS}
    for category in categories:
        language = "en" if rng.random() < 0.3 else "zh-hans"
        status = weighted(rng, FINAL_STATUSES)
        states = CATEGORY_ORDER_STATES[category]
        if states is None:
            plans.append(Plan(category, rng.choice(by_language[language]), None, status))
            continue
        fitting = [o for o in orders if o.state in states]
        candidates = [o for o in fitting if o.customer.language == language] or fitting
        # Prefer orders nobody has complained about yet; repeat contacts happen too.
        fresh = [o for o in candidates if o.order.pk not in used]
        order = rng.choice(fresh or candidates)
        used.add(order.order.pk)
        plans.append(Plan(category, order.customer, order, status))
    assert len(plans) == TICKET_COUNT, len(plans)  # noqa: S101 (catalog consistency, not input validation)
    return plans


def _values(rng: random.Random, plan: Plan, language: str) -> dict[str, str]:
    customer = plan.customer
    phone = customer.phone.reveal() if customer.phone else f"139{rng.randrange(10**8):08d}"
    values = {
        "name": customer.name,
        "phone": phone,
        "settle_no": f"JS{timezone.localdate():%Y%m%d}{rng.randrange(1000, 9999)}",
        "order_no": "",
        "product": "",
        "quantity": "1",
        "amount": "",
        "channel": "",
        "paid_time": "",
        "card_key": "",
        "redeem": "",
        "agent": "",
    }
    if plan.order is not None:
        order, product = plan.order.order, plan.order.product
        sign = "$" if order.currency == "USD" else "¥"
        paid = timezone.localtime(order.paid_at or plan.order.ordered_at)
        values.update(
            order_no=order.order_no,
            product=product.name,
            quantity=str(order.quantity),
            amount=f"{sign}{order.amount}",
            channel=CHANNEL_NAMES[language][order.payment_channel],
            paid_time=f"{paid:%m-%d %H:%M}" if language == "zh-hans" else f"{paid:%b %d, %H:%M}",
            card_key=plan.order.keys[0] if plan.order.keys else "",
            redeem=product.redeem_zh if language == "zh-hans" else product.redeem_en,
        )
    return values


def _priority(rng: random.Random, plan: Plan) -> str:
    if plan.customer.tier == "vip":
        return weighted(rng, VIP_PRIORITY)
    return weighted(rng, CATEGORY_PRIORITY.get(plan.category, DEFAULT_PRIORITY))


def _tags(rng: random.Random, plan: Plan) -> list[str]:
    options = CATEGORY_TAGS[plan.category]
    tags = rng.sample(options, rng.randint(1, len(options))) if rng.random() < 0.6 else []
    if plan.customer.tier == "vip":
        tags.append("vip")
    return tags


def play(rng: random.Random, cast: Cast, plan: Plan) -> Ticket:
    """Post the thread and leave the ticket in the plan's status. Every write is a service call."""
    book: Phrasebook = PHRASEBOOKS[plan.customer.language]
    script = book.scripts[plan.category]
    values = _values(rng, plan, book.language)
    portal = plan.customer.external_id == PORTAL_EXTERNAL_ID
    customer_actor = cast.portal_user if portal else None  # others reach us by widget token or e-mail
    is_vip = plan.customer.tier == "vip"
    ticket = services.ticket_create(
        shop=plan.customer.shop,
        actor=customer_actor,
        customer=plan.customer,
        subject=pick(rng, script.subjects, values)[:200],
        body=pick(rng, script.openings, values),
        channel=weighted(rng, TICKET_CHANNELS),
        order=plan.order.order if plan.order else None,
        queue=cast.queues["vip"] if is_vip else None,  # else the category's default queue
        category=cast.categories[plan.category],
        priority=_priority(rng, plan),
        tags=_tags(rng, plan),
    )
    values["ref"] = ticket.reference
    agent = rng.choice(cast.agents_by_queue[ticket.queue_id])
    values["agent"] = agent.agent_profile.display_name

    def customer_says(options: tuple[str, ...]) -> None:
        services.customer_message_post(ticket=ticket, actor=customer_actor, body=pick(rng, options, values))

    def agent_says(options: tuple[str, ...]) -> None:
        services.agent_reply_post(ticket=ticket, actor=agent, body=pick(rng, options, values))

    def note(options: tuple[str, ...], author=None) -> None:
        services.internal_note_post(ticket=ticket, actor=author or agent, body=pick(rng, options, values))

    def move(status: str) -> None:
        nonlocal ticket
        ticket = services.ticket_change_status(ticket=ticket, actor=agent, status=status)

    if rng.random() < 0.15:
        customer_says(book.nudges)
    if plan.status == Status.NEW:  # nobody has picked it up; a colleague may have left a triage note
        if rng.random() < 0.4:
            note(book.triage_notes)
        return ticket

    assigner = cast.supervisor if rng.random() < 0.3 else agent
    ticket = services.ticket_assign(ticket=ticket, actor=assigner, assignee=agent)  # new -> open
    agent_says(script.agent_first)
    merchant = cast.merchant_by_shop.get(ticket.shop_id)
    if plan.category in MERCHANT_CATEGORIES and merchant is not None and rng.random() < 0.25:
        note(book.merchant_notes, author=merchant)

    if plan.status == Status.PENDING:  # waiting for the customer
        if rng.random() < 0.5:
            customer_says(script.follow_ups)
        agent_says(script.agent_ask)
        move(Status.PENDING)
    elif plan.status == Status.ON_HOLD:  # waiting for a supplier, the channel or finance
        note(script.notes if rng.random() < 0.5 else book.hold_notes)
        agent_says(book.hold_replies)
        move(Status.ON_HOLD)
    elif plan.status == Status.OPEN:
        if rng.random() < 0.6:
            customer_says(script.follow_ups)
        if rng.random() < 0.4:
            note(script.notes)
        if rng.random() < 0.2:  # solved once, then the customer came back: the reply reopens it
            agent_says(script.resolutions)
            move(Status.SOLVED)
            customer_says(book.reopen)
    else:  # solved / closed
        if rng.random() < 0.5:
            agent_says(script.agent_ask)
            customer_says(script.follow_ups)
        if rng.random() < 0.5:
            note(script.notes)
        agent_says(script.resolutions)
        if rng.random() < 0.5:
            customer_says(book.thanks)  # before solving: a customer message would reopen a solved ticket
        move(Status.SOLVED)
        if plan.status == Status.CLOSED:
            move(Status.CLOSED)
    return ticket


def seed_tickets(rng: random.Random, cast: Cast, customers: list[Customer], orders: list[DemoOrder]) -> int:
    plans = plan_tickets(rng, customers, orders)
    for plan in plans:
        play(rng, cast, plan)
    return len(plans)
