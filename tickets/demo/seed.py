"""Seed the demo desk: structure first, then customers, orders and ticket conversations, all in one transaction."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from helpdesk import context
from helpdesk.audit import audit_record
from helpdesk.models import AuditEvent, Shop
from helpdesk.roles import roles_sync
from tickets.demo import dataset, threads
from tickets.demo.catalog import DEMO_PREFIX, QUEUES, SHOPS, STAFF
from tickets.demo.setup import Cast, ensure_organisation
from tickets.models import CannedReply, Category, Customer, Message, Order, Queue, Ticket
from tickets.services.notifications import notifications_suppressed
from tickets.services.sla_upkeep import sla_backfill

SEED = 2026


@dataclass
class SeedResult:
    seeded: bool  # False when the demo's customers, orders and tickets were already there
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


def _demo_tickets():
    return Ticket.objects.filter(shop__slug__in=[s.slug for s in SHOPS], customer__external_id__startswith=DEMO_PREFIX)


def _link_portal_customer(cast: Cast, customers: list[Customer] | None = None) -> None:
    """customer1 logs in to the help centre as the shop's customer demo-c001 (no service sets this link yet)."""
    user = cast.portal_user
    customer = next((c for c in customers or [] if c.external_id == dataset.PORTAL_EXTERNAL_ID), None)
    if customer is None:
        customer = Customer.objects.filter(
            shop=cast.shops[SHOPS[0].slug], external_id=dataset.PORTAL_EXTERNAL_ID
        ).first()
    if customer is None or customer.user_id == user.pk:
        return
    before = customer.user_id
    customer.user = user
    customer.save(update_fields=["user", "updated_at"])
    audit_record(actor=None, action="customer.link_user", obj=customer, changes={"user": [before, user.pk]})


def counts() -> dict[str, int]:
    shop_slugs = [s.slug for s in SHOPS]
    demo_customers = Customer.objects.filter(shop__slug__in=shop_slugs, external_id__startswith=DEMO_PREFIX)
    tickets = _demo_tickets()
    return {
        "users": get_user_model().objects.filter(username__in=[s.username for s in STAFF]).count(),
        "shops": Shop.objects.filter(slug__in=shop_slugs).count(),
        "queues": Queue.objects.filter(slug__in=[q.slug for q in QUEUES]).count(),
        "categories": Category.objects.count(),
        "canned replies": CannedReply.objects.count(),
        "customers": demo_customers.count(),
        "orders": Order.objects.filter(customer__in=demo_customers).count(),
        "tickets": tickets.count(),
        "messages": Message.objects.filter(ticket__in=tickets).count(),
        "audit events": AuditEvent.objects.count(),
    }


def _spread_over_past_weeks(rng: random.Random) -> None:
    """Give the demo conversations a realistic timeline (the last 30 days) instead of the seconds the seed took.

    Only display times move (tickets and messages); the audit trail keeps the true time of each write, as an
    append-only log must.
    """
    now = timezone.now()
    tickets = list(_demo_tickets().order_by("id"))
    messages_by_ticket: dict[int, list[Message]] = {}
    for message in Message.objects.filter(ticket__in=tickets).order_by("ticket_id", "seq"):
        messages_by_ticket.setdefault(message.ticket_id, []).append(message)
    changed_messages: list[Message] = []
    for ticket in tickets:
        # Recent days are busier: square a uniform draw to skew towards "now".
        created = now - timedelta(days=30 * rng.random() ** 2, minutes=rng.randint(5, 600))
        moment = created
        first_agent = last_customer = last_agent = None
        for message in messages_by_ticket.get(ticket.pk, []):
            message.created_at = moment
            changed_messages.append(message)
            if message.author_kind == "agent" and not message.is_internal:
                first_agent = first_agent or moment
                last_agent = moment
            elif message.author_kind == "customer":
                last_customer = moment
            moment = min(moment + timedelta(minutes=rng.randint(2, 240)), now)
        ticket.created_at = created
        ticket.updated_at = moment
        ticket.first_response_at = first_agent if ticket.first_response_at else None
        ticket.last_agent_message_at = last_agent
        ticket.last_customer_message_at = last_customer or created
        if ticket.solved_at:
            ticket.solved_at = moment
        if ticket.closed_at:
            ticket.closed_at = moment
    Message.objects.bulk_update(changed_messages, ["created_at"], batch_size=500)
    Ticket.objects.bulk_update(
        tickets,
        [
            "created_at",
            "updated_at",
            "first_response_at",
            "last_agent_message_at",
            "last_customer_message_at",
            "solved_at",
            "closed_at",
        ],
        batch_size=500,
    )


def seed_demo(*, password: str) -> SeedResult:
    """Create the demo desk, or bring an existing one back to its definition without adding anything.

    Structure (users, grants, shops, queues, categories, canned replies) is upserted on natural keys.
    Customers, orders and tickets are created only when the demo shops hold no demo ticket yet: everything
    runs in one transaction, so they are either all there or not at all. Every write goes through a
    service or is audited as one; the audit events carry the actor label "seed_demo".
    """
    started = time.perf_counter()
    rng = random.Random(SEED)  # noqa: S311 (demo content, not security)
    roles_sync()
    # Demo conversations are not real customers: record no e-mails for their replies and solves.
    with context.bound(actor_label="seed_demo"), notifications_suppressed(), transaction.atomic():
        cast = ensure_organisation(password=password)
        seeded = not _demo_tickets().exists()
        if seeded:
            customers = dataset.seed_customers(rng, cast.shops)
            _link_portal_customer(cast, customers)
            orders = dataset.seed_orders(rng, cast.shops, customers)
            threads.seed_tickets(rng, cast, customers, orders)
            _spread_over_past_weeks(rng)
            # The timeline moved into the past: put the SLA clocks on it, past deadlines recorded quietly.
            sla_backfill()
        else:
            _link_portal_customer(cast)
        result = counts()
    return SeedResult(seeded=seeded, seconds=time.perf_counter() - started, counts=result)
