"""The ticket's life: create, assign, change status, set fields, merge."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk import realtime
from helpdesk.audit import audit_record
from helpdesk.models import Shop
from tickets.errors import InvalidInput, InvalidTransition, NotAllowed
from tickets.locks import lock_ticket, lock_tickets
from tickets.models import Category, Channel, Customer, Message, Order, Priority, Queue, Status, Tag, Ticket
from tickets.permissions import TicketPolicy
from tickets.services.enqueue import automation_after_commit
from tickets.services.messages import PostResult, _append, _require, system_message_append
from tickets.services.notifications import ticket_status_notify
from tickets.services.sla import sla_refresh

# new → open ⇄ pending/on_hold → solved → closed; a customer reply reopens solved (messages.py).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
    Status.OPEN: frozenset({Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
    Status.PENDING: frozenset({Status.OPEN, Status.ON_HOLD, Status.SOLVED}),
    Status.ON_HOLD: frozenset({Status.OPEN, Status.PENDING, Status.SOLVED}),
    Status.SOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def _next_reference() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('tickets_ticket_reference_seq')")
        (number,) = cursor.fetchone()
    return f"T-{number:06d}"


def _ticket_event(ticket: Ticket, kind: str, **extra: Any) -> None:
    groups = [realtime.ticket_group(ticket.pk), realtime.shop_group(ticket.shop_id), realtime.SUPERVISORS_GROUP]
    if ticket.queue_id:
        groups.append(realtime.queue_group(ticket.queue_id))
    if ticket.assignee_id:
        groups.append(realtime.user_group(ticket.assignee_id))
    realtime.broadcast_on_commit(groups, {"type": kind, "ticket": ticket.pk, "status": ticket.status, **extra})


@transaction.atomic
def ticket_create(
    *,
    shop: Shop,
    actor: AbstractBaseUser | None,
    customer: Customer,
    subject: str,
    body: str,
    channel: str = Channel.WEB,
    order: Order | None = None,
    queue: Queue | None = None,
    category: Category | None = None,
    priority: str = Priority.NORMAL,
    language: str | None = None,
    tags: Sequence[str] = (),
    client_msg_id: str | None = None,
    attachments: Sequence[UploadedFile] = (),
) -> Ticket:
    """Open a ticket with the customer's first message, from any channel.

    Callers upsert the customer and order first (customer_upsert / order_upsert), so every channel attaches
    context the same way. Queue defaults to the category's default queue.
    """
    subject = (subject or "").strip()
    if not subject:
        raise InvalidInput(_("A subject is required."), field="subject")
    if len(subject) > 200:
        raise InvalidInput(_("The subject is longer than 200 characters."), field="subject")
    if channel not in Channel.values:
        raise InvalidInput(_("Unknown channel %(channel)s.") % {"channel": repr(channel)}, field="channel")
    if priority not in Priority.values:
        raise InvalidInput(_("Unknown priority %(priority)s.") % {"priority": repr(priority)}, field="priority")
    if customer.shop_id != shop.pk:
        raise InvalidInput(_("The customer belongs to another shop."), field="customer")
    if order is not None and order.shop_id != shop.pk:
        raise InvalidInput(_("The order belongs to another shop."), field="order_no")
    if queue is None and category is not None and category.default_queue_id:
        queue = category.default_queue
    ticket = Ticket.objects.create(
        shop=shop,
        reference=_next_reference(),
        subject=subject,
        channel=channel,
        customer=customer,
        order=order,
        queue=queue,
        category=category,
        priority=priority,
        language=language or customer.language,
        last_customer_message_at=timezone.now(),
    )
    tag_objects = _tags(tags)
    if tag_objects:
        ticket.tags.add(*tag_objects)
    first = _append(
        ticket,
        kind="customer",
        actor=actor if getattr(actor, "is_authenticated", False) and customer.user_id == actor.pk else None,
        body=body,
        is_internal=False,
        channel=channel,
        client_msg_id=client_msg_id,
        author_name=str(customer),
        attachments=attachments,
    )
    ticket.save(update_fields=["last_seq", "last_public_seq"])
    sla_refresh(ticket)
    audit_record(
        actor=actor,
        action="ticket.create",
        obj=ticket,
        changes={
            "channel": channel,
            "customer": customer.pk,
            "order": order.order_no if order else None,
            "queue": queue.pk if queue else None,
            "category": category.pk if category else None,
            "priority": priority,
            "tags": sorted(t.name for t in tag_objects),
        },
    )
    _ticket_event(ticket, "ticket.created")
    automation_after_commit(ticket.pk, trigger="created", seq=first.message.seq)
    return ticket


def _tags(names: Sequence[str]) -> list[Tag]:
    cleaned = sorted({n.strip()[:50] for n in names if n and n.strip()})
    existing = {t.name: t for t in Tag.objects.filter(name__in=cleaned)}
    missing = [Tag(name=n) for n in cleaned if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=cleaned)}
    return [existing[n] for n in cleaned]


@transaction.atomic
def ticket_assign(*, ticket: Ticket, actor: AbstractBaseUser | None, assignee: AbstractBaseUser | None) -> Ticket:
    """Assign (or unassign with None). The assignee must be able to work the ticket's queue."""
    if actor is not None:
        _require(TicketPolicy.can_assign(actor, ticket), actor, ticket)
    ticket = lock_ticket(ticket.pk)
    if assignee is not None and not TicketPolicy.can_work(assignee, ticket):
        raise NotAllowed(_("%(agent)s does not work this ticket's queue.") % {"agent": assignee.get_username()})
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    changes: dict[str, list] = {"assignee": [ticket.assignee_id, assignee.pk if assignee else None]}
    ticket.assignee = assignee
    fields = ["assignee", "updated_at"]
    if assignee is not None and ticket.status == Status.NEW:
        changes["status"] = [Status.NEW, Status.OPEN]
        ticket.status = Status.OPEN
        fields.append("status")
    ticket.save(update_fields=fields)
    audit_record(actor=actor, action="ticket.assign", obj=ticket, changes=changes)
    _ticket_event(ticket, "ticket.assigned", assignee=ticket.assignee_id)
    return ticket


@transaction.atomic
def ticket_change_status(*, ticket: Ticket, actor: AbstractBaseUser | None, status: str) -> Ticket:
    """Move along the allowed transitions; solved/closed stamp their times, reopening clears solved_at."""
    if status not in Status.values:
        raise InvalidInput(_("Unknown status %(status)s.") % {"status": repr(status)}, field="status")
    if actor is not None:
        _require(TicketPolicy.can_change_status(actor, ticket, status), actor, ticket)
    ticket = lock_ticket(ticket.pk)
    if ticket.status == status:
        return ticket
    if status not in TRANSITIONS[ticket.status]:
        raise InvalidTransition(
            _("The status cannot change from %(old)s to %(new)s.")
            % {"old": Status(ticket.status).label, "new": Status(status).label},
            field="status",
        )
    if ticket.merged_into_id:
        raise InvalidTransition(_("A merged ticket stays closed."), field="status")
    before = ticket.status
    ticket.status = status
    fields = ["status", "updated_at"]
    now = timezone.now()
    if status == Status.SOLVED:
        ticket.solved_at = now
        fields.append("solved_at")
    elif status == Status.CLOSED:
        ticket.closed_at = now
        fields.append("closed_at")
    elif before == Status.SOLVED:
        ticket.solved_at = None
        fields.append("solved_at")
    if actor is not None and status in {Status.SOLVED, Status.CLOSED} and ticket.category_id:
        ticket.category_confirmed = True  # the agent kept the category: a training sample
        fields.append("category_confirmed")
    ticket.save(update_fields=fields)
    sla_refresh(ticket)
    audit_record(actor=actor, action="ticket.status", obj=ticket, changes={"status": [before, status]})
    _ticket_event(ticket, "ticket.status_changed")
    ticket_status_notify(ticket=ticket, before=before)
    return ticket


_UNSET: Any = object()


@transaction.atomic
def ticket_update(
    *,
    ticket: Ticket,
    actor: AbstractBaseUser | None,
    priority: str = _UNSET,
    category: Category | None = _UNSET,
    queue: Queue | None = _UNSET,
    tags: Sequence[str] = _UNSET,
    subject: str = _UNSET,
) -> Ticket:
    """Set priority, category, queue, tags or subject; only what is passed changes, each change audited."""
    if actor is not None:
        _require(TicketPolicy.can_change_fields(actor, ticket), actor, ticket)
    ticket = lock_ticket(ticket.pk)
    changes: dict[str, list] = {}
    fields: list[str] = []
    if priority is not _UNSET and priority != ticket.priority:
        if priority not in Priority.values:
            raise InvalidInput(_("Unknown priority %(priority)s.") % {"priority": repr(priority)}, field="priority")
        changes["priority"] = [ticket.priority, priority]
        ticket.priority = priority
        fields.append("priority")
    if subject is not _UNSET and subject.strip() != ticket.subject:
        if not subject.strip() or len(subject.strip()) > 200:
            raise InvalidInput(_("The subject must be 1 to 200 characters."), field="subject")
        changes["subject"] = [ticket.subject, subject.strip()]
        ticket.subject = subject.strip()
        fields.append("subject")
    if queue is not _UNSET and queue is not None and queue.shop_id not in (None, ticket.shop_id):
        raise InvalidInput(_("That queue serves another shop."), field="queue")
    for name, value in (("category", category), ("queue", queue)):
        if value is _UNSET:
            continue
        new_id = value.pk if value is not None else None
        if getattr(ticket, f"{name}_id") != new_id:
            changes[name] = [getattr(ticket, f"{name}_id"), new_id]
            setattr(ticket, name, value)
            fields.append(name)
    if "category" in fields and actor is not None:
        ticket.category_confirmed = True  # an agent set or corrected it: a training sample
        fields.append("category_confirmed")
    if fields:
        ticket.save(update_fields=[*fields, "updated_at"])
        if {"priority", "category", "queue"} & set(fields):
            sla_refresh(ticket)
    if tags is not _UNSET:
        wanted = _tags(tags)
        current = set(ticket.tags.values_list("name", flat=True))
        if current != {t.name for t in wanted}:
            changes["tags"] = [sorted(current), sorted(t.name for t in wanted)]
            ticket.tags.set(wanted)
            if not fields:
                ticket.save(update_fields=["updated_at"])
    if changes:
        audit_record(actor=actor, action="ticket.update", obj=ticket, changes=changes)
        _ticket_event(ticket, "ticket.updated", fields=sorted(changes))
    return ticket


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, actor: AbstractBaseUser | None) -> Ticket:
    """Move the source's thread into the target (after its messages, in order) and close the source."""
    if source.pk == target.pk:
        raise InvalidInput(_("A ticket cannot be merged into itself."), field="target")
    if actor is not None:
        _require(TicketPolicy.can_merge(actor, source, target), actor, source)
    locked = lock_tickets(source.pk, target.pk)
    source, target = locked[source.pk], locked[target.pk]
    if source.shop_id != target.shop_id:
        raise InvalidInput(_("Tickets of different shops cannot be merged."), field="target")
    if source.merged_into_id or target.merged_into_id:
        raise InvalidTransition(_("One of these tickets was already merged."), field="target")
    if target.status == Status.CLOSED:
        raise InvalidTransition(_("Cannot merge into a closed ticket."), field="target")
    taken = set(
        Message.objects.filter(ticket=target, client_msg_id__isnull=False).values_list("client_msg_id", flat=True)
    )
    moved = list(Message.objects.filter(ticket=source).order_by("seq"))
    for message in moved:
        target.last_seq += 1
        message.ticket = target
        message.seq = target.last_seq
        if not message.is_internal:
            target.last_public_seq = message.seq
        if message.client_msg_id in taken:
            message.client_msg_id = None
    # New seqs start above the target's last one, so (ticket, seq) stays unique within the single UPDATE.
    if moved:
        Message.objects.bulk_update(moved, ["ticket", "seq", "client_msg_id"])
    target.tags.add(*source.tags.all())
    target.save(update_fields=["last_seq", "last_public_seq", "updated_at"])
    before_status = source.status
    source.status = Status.CLOSED
    source.closed_at = timezone.now()
    source.merged_into = target
    source.save(update_fields=["status", "closed_at", "merged_into", "updated_at"])
    sla_refresh(source)
    system_message_append(source, f"Merged into {target.reference}.", internal=False)
    system_message_append(target, f"{source.reference} was merged into this ticket ({len(moved)} messages).")
    audit_record(
        actor=actor,
        action="ticket.merge",
        obj=source,
        changes={"merged_into": target.reference, "status": [before_status, Status.CLOSED]},
    )
    audit_record(
        actor=actor,
        action="ticket.merge_received",
        obj=target,
        changes={"merged_from": source.reference, "messages": len(moved)},
    )
    _ticket_event(source, "ticket.merged", into=target.pk)
    _ticket_event(target, "ticket.updated", fields=["messages"])
    return target


@transaction.atomic
def order_secrets_reveal(*, ticket: Ticket, actor: AbstractBaseUser) -> list[str]:
    """The plain card keys of the ticket's order, for a permitted user; every reveal is audited."""
    if not TicketPolicy.can_reveal_secrets(actor, ticket):
        _require(False, actor, ticket)
    order = ticket.order
    if order is None or not order.card_keys:
        return []
    audit_record(
        actor=actor,
        action="order.card_keys_revealed",
        obj=order,
        changes={"ticket": ticket.reference, "count": order.card_key_count},
    )
    return order.card_keys.reveal().splitlines()


__all__ = [
    "TRANSITIONS",
    "PostResult",
    "order_secrets_reveal",
    "ticket_assign",
    "ticket_change_status",
    "ticket_create",
    "ticket_merge",
    "ticket_update",
]
