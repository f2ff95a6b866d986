"""Routing: VIP customers to the VIP queue, overflow between queues, and skills-based, capacity-aware
assignment (least loaded first, round-robin among equals). Urgent payment problems go straight to a person.

Locks are taken ticket first, then the chosen agent's profile (the same order everywhere), so a claim is
atomic: two routers never give one ticket to two agents, nor one agent more than their capacity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk import context
from tickets.errors import InvalidTransition
from tickets.locks import lock_ticket
from tickets.models import AgentProfile, CustomerTier, Priority, Queue, Ticket
from tickets.models.tickets import UNSOLVED_Q
from tickets.permissions import TicketPolicy
from tickets.selectors.routing import agent_loads, queue_waiting_count, routing_candidates
from tickets.services.messages import _require
from tickets.services.tickets import ticket_assign, ticket_update

URGENT_PAYMENT_PRIORITIES = frozenset({Priority.HIGH, Priority.URGENT})


class AlreadyClaimed(InvalidTransition):
    code = "already_claimed"


@dataclass(frozen=True)
class Routed:
    ticket: Ticket
    assignee_id: int | None
    queue_id: int | None
    reason: str  # assigned | urgent | no_agent | not_routed | already_assigned | live_chat


def is_urgent_payment(ticket: Ticket) -> bool:
    """A payment problem (paid but not received, charged twice) at high or urgent priority."""
    slug = ticket.category.slug if ticket.category_id else (ticket.intent or "")
    return slug.startswith("payment") and ticket.priority in URGENT_PAYMENT_PRIORITIES


def _vip_queue(ticket: Ticket) -> Queue | None:
    return (
        Queue.objects.filter(Q(shop_id=ticket.shop_id) | Q(shop__isnull=True), is_vip=True, is_active=True)
        .order_by(F("shop_id").asc(nulls_last=True), "pk")  # the shop's own VIP queue before a shared one
        .first()
    )


def _settle_queue(ticket: Ticket) -> Ticket:
    """VIP customers to a VIP queue; past the overflow threshold (tickets waiting), to the overflow queue (one
    hop). Tickets that wait too long move later, in `routing_overflow_sweep`."""
    if ticket.customer.tier == CustomerTier.VIP and not (ticket.queue_id and ticket.queue.is_vip):
        vip = _vip_queue(ticket)
        if vip is not None:
            ticket = ticket_update(ticket=ticket, actor=None, queue=vip)
    queue = ticket.queue
    if (
        queue is not None
        and queue.overflow_queue_id
        and queue.overflow_threshold
        and queue.overflow_queue.is_active
        and queue_waiting_count(queue) > queue.overflow_threshold
    ):
        ticket = ticket_update(ticket=ticket, actor=None, queue=queue.overflow_queue)
    return ticket


def ticket_route(*, ticket_id: int, force: bool = False) -> Routed:
    """Route one ticket: settle its queue, then assign when the queue assigns automatically, the problem is an
    urgent payment one, or `force`. Idempotent: an assigned or closed ticket is left alone.

    Two transactions: the queue moves (audited) commit first, so the claim's transaction takes its locks in one
    order, ticket → agent profile → audit chain, and two routers cannot deadlock on a profile and a chain."""
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        if ticket.assignee_id or not ticket.is_open or ticket.merged_into_id:
            return Routed(ticket, ticket.assignee_id, ticket.queue_id, "already_assigned")
        if ticket.live_chat:  # a waiting chat is offered by the chat service (same candidates, chat capacity)
            return Routed(ticket, None, ticket.queue_id, "live_chat")
        with context.bound(actor_label=context.current().actor_label or "routing"):
            _settle_queue(ticket)
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        if ticket.assignee_id or not ticket.is_open or ticket.live_chat:
            return Routed(ticket, ticket.assignee_id, ticket.queue_id, "already_assigned")
        urgent = is_urgent_payment(ticket)
        queue = ticket.queue
        if queue is None or not (queue.auto_assign or urgent or force):
            return Routed(ticket, None, ticket.queue_id, "not_routed")
        agent = _claim_seat(queue, chat=False, overbook=urgent)
        if agent is None:
            return Routed(ticket, None, queue.pk, "no_agent")
        with context.bound(actor_label=context.current().actor_label or "routing"):
            ticket = ticket_assign(ticket=ticket, actor=None, assignee=agent)
    return Routed(ticket, agent.pk, queue.pk, "urgent" if urgent else "assigned")


def _claim_seat(queue: Queue, *, chat: bool, overbook: bool) -> AbstractBaseUser | None:
    """Lock the best candidate's profile, re-count their load under the lock, take the seat."""
    candidates = routing_candidates(queue, chat=chat)
    if not candidates and overbook:
        # Urgent payment problems reach a person even when every online agent is at capacity.
        candidates = routing_candidates(queue, chat=chat, include_full=True)
    for candidate in candidates:
        profile = AgentProfile.objects.select_for_update().select_related("user").get(pk=candidate.pk)
        capacity = profile.max_concurrent_chats if chat else profile.max_open_tickets
        if not overbook and agent_loads([profile.user_id], chat=chat)[profile.user_id] >= capacity:
            continue  # someone else took the last seat meanwhile
        profile.last_routed_at = timezone.now()
        profile.save(update_fields=["last_routed_at"])
        return profile.user
    return None


def routing_overflow_sweep(*, now: datetime | None = None, batch: int = 200) -> int:
    """Beat: unassigned tickets that waited past their queue's `overflow_wait_minutes` move to its overflow
    queue (then routed there). Returns how many moved."""
    now = now or timezone.now()
    moved = 0
    queues = Queue.objects.filter(
        is_active=True, overflow_wait_minutes__gt=0, overflow_queue__isnull=False, overflow_queue__is_active=True
    ).select_related("overflow_queue")
    for queue in queues:
        cutoff = now - timedelta(minutes=queue.overflow_wait_minutes)
        with transaction.atomic(), context.bound(actor_label="routing"):
            waiting = (
                Ticket.objects.select_for_update(skip_locked=True)
                .filter(UNSOLVED_Q, queue=queue, assignee__isnull=True, live_chat=False, created_at__lt=cutoff)
                .order_by("created_at")[:batch]
            )
            for ticket in waiting:
                ticket_update(ticket=ticket, actor=None, queue=queue.overflow_queue)
                moved += 1
                ticket_id = ticket.pk
                transaction.on_commit(lambda ticket_id=ticket_id: ticket_route(ticket_id=ticket_id))
    return moved


@transaction.atomic
def ticket_claim(*, ticket_id: int, actor: AbstractBaseUser) -> Ticket:
    """An agent takes an unassigned ticket ("take it"). Of any number of simultaneous claims one wins; the
    others get AlreadyClaimed naming who has it."""
    ticket = lock_ticket(ticket_id)
    _require(TicketPolicy.can_work(actor, ticket), actor, ticket)
    if ticket.assignee_id == actor.pk:
        return ticket
    if ticket.assignee_id is not None:
        raise AlreadyClaimed(_("%(agent)s has already taken this ticket.") % {"agent": ticket.assignee})
    return ticket_assign(ticket=ticket, actor=actor, assignee=actor)
