"""Posting to a ticket's thread: customer messages, agent replies, internal notes, bot and system lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk import realtime
from helpdesk.audit import audit_record
from tickets.errors import InvalidInput, NotAllowed, NotVisible, TicketClosed
from tickets.locks import lock_ticket
from tickets.models import Attachment, AuthorKind, Message, Status, Ticket
from tickets.permissions import TicketPolicy
from tickets.services.content import check_upload, render_body
from tickets.services.enqueue import automation_after_commit
from tickets.services.notifications import agent_reply_notify
from tickets.services.sla import sla_refresh


@dataclass(frozen=True)
class PostResult:
    message: Message
    created: bool  # False when the client_msg_id was seen before: the earlier message is returned


def _author_name(actor: AbstractBaseUser | None, fallback: str) -> str:
    if actor is None:
        return fallback
    profile = getattr(actor, "agent_profile", None)
    if profile is not None and profile.display_name:
        return profile.display_name
    return actor.get_full_name() or actor.get_username()


def _locked(ticket: Ticket | int) -> Ticket:
    """The ticket re-read under its row lock (NotVisible if it is gone). The customer and order the caller
    already loaded are carried over, so the services do not fetch them again (not the queue: its default SLA
    policy is read through the SLA cache, which a queue edit invalidates)."""
    given = ticket if isinstance(ticket, Ticket) else None
    try:
        locked = lock_ticket(given.pk if given is not None else ticket)
    except Ticket.DoesNotExist:
        raise NotVisible("No such ticket.") from None
    if given is not None:
        for name in _CARRIED:
            field = Ticket._meta.get_field(name)
            if field.is_cached(given) and getattr(locked, field.attname) == getattr(given, field.attname):
                field.set_cached_value(locked, field.get_cached_value(given))
    return locked


_CARRIED = ("customer", "order")
# The idempotency look-up runs for every message; written out, it costs a fifth of the ORM-built query's CPU.
# Table and column names come from model metadata; values are bound parameters.
_SEEN_SQL = f'SELECT "id" FROM "{Message._meta.db_table}" WHERE "ticket_id" = %s AND "client_msg_id" = %s'  # noqa: S608


def _append(
    ticket: Ticket,
    *,
    kind: str,
    actor: AbstractBaseUser | None,
    body: str,
    is_internal: bool,
    channel: str,
    client_msg_id: str | None,
    author_name: str,
    attachments: Sequence[UploadedFile] = (),
    fmt: str = "text",
) -> PostResult:
    """Insert the next message under the ticket's row lock (the caller holds it)."""
    if client_msg_id is not None:
        client_msg_id = client_msg_id.strip()[:64] or None
    if client_msg_id:
        with connection.cursor() as cursor:
            cursor.execute(_SEEN_SQL, [ticket.pk, client_msg_id])
            seen = cursor.fetchone()
        if seen is not None:
            existing = Message.objects.get(pk=seen[0])
            if existing.author_kind != kind or existing.author_id != getattr(actor, "pk", None):
                # Someone else's message: answering with it would silently drop this one.
                raise InvalidInput(
                    _("This client message id is already used in this conversation; send with a new one."),
                    field="client_msg_id",
                )
            return PostResult(existing, created=False)
    checked = [check_upload(upload) for upload in attachments]
    secrets = ticket.order.card_keys.reveal().splitlines() if ticket.order_id and ticket.order.card_keys else []
    html = render_body(body, fmt=fmt, known_secrets=secrets)
    ticket.last_seq += 1
    prev_public_seq = ticket.last_public_seq
    if not is_internal:
        ticket.last_public_seq = ticket.last_seq
    message = Message.objects.create(
        ticket=ticket,
        seq=ticket.last_seq,
        author_kind=kind,
        author=actor,
        author_name=author_name[:120],
        body=html,
        is_internal=is_internal,
        channel=channel,
        client_msg_id=client_msg_id,
    )
    saved: list[Attachment] = []
    for item in checked:
        attachment = Attachment(
            message=message,
            filename=item.filename,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
        )
        attachment.file.save(item.filename, item.upload, save=False)
        attachment.save()
        saved.append(attachment)
    message.attachment_list = saved
    message.prev_public_seq = prev_public_seq  # for the broadcast; not a column
    return PostResult(message, created=True)


def message_public_payload(message: Message, *, prev_seq: int) -> dict:
    """What a customer's client is shown of a public message (the chat protocol's `message` frame body).

    `prev_seq` is the seq of the public message before it, so a client can tell a gap from an internal note.
    """
    return {
        "seq": message.seq,
        "prev_seq": prev_seq,
        "client_msg_id": message.client_msg_id if message.author_kind == AuthorKind.CUSTOMER else None,
        "author": {"kind": message.author_kind, "name": message.author_name},
        "body": message.body,
        "attachments": [
            {"id": a.pk, "name": a.filename, "size": a.size, "content_type": a.content_type}
            for a in getattr(message, "attachment_list", ())
        ],
        "created_at": message.created_at.isoformat(),
    }


def _broadcast_message(ticket: Ticket, message: Message) -> None:
    """After commit, tell the ticket's group. Public messages carry their committed payload and the previous
    public seq, so a live client that has everything before it needs no query; any other client refetches."""
    event = {
        "type": "message.created",
        "ticket": ticket.pk,
        "seq": message.seq,
        "internal": message.is_internal,
        "author_kind": message.author_kind,
    }
    prev_public = getattr(message, "prev_public_seq", None)
    if not message.is_internal and prev_public is not None:
        event["prev_public_seq"] = prev_public
        event["message"] = message_public_payload(message, prev_seq=prev_public)
    realtime.broadcast_on_commit([realtime.ticket_group(ticket.pk)], event)


@transaction.atomic
def customer_message_post(
    *,
    ticket: Ticket | int,
    actor: AbstractBaseUser | None,
    body: str,
    client_msg_id: str | None = None,
    channel: str | None = None,
    attachments: Sequence[UploadedFile] = (),
    author_name: str = "",
) -> PostResult:
    """A message from the customer. Reopens a recently solved ticket; pending/on-hold go back to open.

    `actor` is the customer's portal user, or None when the channel authenticated the customer another
    way (tracking token, signed widget token, inbound e-mail) and already resolved the ticket. `ticket` may be
    an id: it is re-read under its row lock either way, and the permission is asked of that row.
    """
    ticket = _locked(ticket)
    if actor is not None and not TicketPolicy.can_post_as_customer(actor, ticket):
        raise NotVisible("No such ticket.")
    now = timezone.now()
    if ticket.status == Status.CLOSED or ticket.merged_into_id:
        raise TicketClosed(_("This ticket is closed; please open a new one."))
    reopen_window = timezone.timedelta(days=settings.TICKET_REOPEN_DAYS)
    if ticket.status == Status.SOLVED and ticket.solved_at and now - ticket.solved_at > reopen_window:
        raise TicketClosed(_("This ticket was solved too long ago to reopen; please open a new one."))
    result = _append(
        ticket,
        kind=AuthorKind.CUSTOMER,
        actor=actor,
        body=body,
        is_internal=False,
        channel=channel or ticket.channel,
        client_msg_id=client_msg_id,
        author_name=author_name or str(ticket.customer),
        attachments=attachments,
    )
    if not result.created:
        return result
    changes: dict = {"seq": result.message.seq}
    fields = ["last_seq", "last_public_seq", "last_customer_message_at", "updated_at"]
    ticket.last_customer_message_at = now
    if ticket.status in {Status.SOLVED, Status.PENDING, Status.ON_HOLD}:
        changes["status"] = [ticket.status, Status.OPEN]
        if ticket.status == Status.SOLVED:
            ticket.solved_at = None
            fields.append("solved_at")
        ticket.status = Status.OPEN
        fields.append("status")
    ticket.save(update_fields=fields)
    sla_refresh(ticket)
    audit_record(actor=actor, action="ticket.customer_message", obj=ticket, changes=changes)
    _broadcast_message(ticket, result.message)
    automation_after_commit(ticket.pk, trigger="customer_message", seq=result.message.seq)
    return result


@transaction.atomic
def agent_reply_post(
    *,
    ticket: Ticket | int,
    actor: AbstractBaseUser,
    body: str,
    client_msg_id: str | None = None,
    attachments: Sequence[UploadedFile] = (),
    fmt: str = "text",
) -> PostResult:
    """A public reply from the desk. The first one stamps first_response_at; a new ticket becomes open.
    `ticket` may be an id; the permission is asked of the row read under its lock."""
    ticket = _locked(ticket)
    _require(TicketPolicy.can_reply(actor, ticket), actor, ticket)
    if ticket.status == Status.CLOSED or ticket.merged_into_id:
        raise TicketClosed(_("This ticket is closed."))
    result = _append(
        ticket,
        kind=AuthorKind.AGENT,
        actor=actor,
        body=body,
        is_internal=False,
        channel=ticket.channel,
        client_msg_id=client_msg_id,
        author_name=_author_name(actor, "Agent"),
        attachments=attachments,
        fmt=fmt,
    )
    if not result.created:
        return result
    now = timezone.now()
    changes: dict = {"seq": result.message.seq}
    fields = ["last_seq", "last_public_seq", "last_agent_message_at", "updated_at"]
    ticket.last_agent_message_at = now
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        fields.append("first_response_at")
    if ticket.status == Status.NEW:
        changes["status"] = [Status.NEW, Status.OPEN]
        ticket.status = Status.OPEN
        fields.append("status")
    ticket.save(update_fields=fields)
    sla_refresh(ticket)
    audit_record(actor=actor, action="ticket.reply", obj=ticket, changes=changes)
    _broadcast_message(ticket, result.message)
    agent_reply_notify(ticket=ticket, message=result.message)
    return result


@transaction.atomic
def internal_note_post(
    *,
    ticket: Ticket | int,
    actor: AbstractBaseUser,
    body: str,
    client_msg_id: str | None = None,
    attachments: Sequence[UploadedFile] = (),
    fmt: str = "text",
) -> PostResult:
    """A note only the desk sees; changes no status or SLA clock. `ticket` may be an id."""
    ticket = _locked(ticket)
    _require(TicketPolicy.can_note(actor, ticket), actor, ticket)
    result = _append(
        ticket,
        kind=AuthorKind.AGENT,
        actor=actor,
        body=body,
        is_internal=True,
        channel=ticket.channel,
        client_msg_id=client_msg_id,
        author_name=_author_name(actor, "Agent"),
        attachments=attachments,
        fmt=fmt,
    )
    if result.created:
        ticket.save(update_fields=["last_seq", "updated_at"])
        audit_record(actor=actor, action="ticket.note", obj=ticket, changes={"seq": result.message.seq})
        _broadcast_message(ticket, result.message)
    return result


@transaction.atomic
def bot_reply_post(*, ticket: Ticket, body: str, author_name: str = "CardDesk Bot") -> PostResult:
    """A public answer from the automatic assistant (chat deflection). Not a first response: no SLA clock stops."""
    ticket = lock_ticket(ticket.pk)
    if ticket.status == Status.CLOSED or ticket.merged_into_id:
        raise TicketClosed(_("This ticket is closed."))
    result = _append(
        ticket,
        kind=AuthorKind.BOT,
        actor=None,
        body=body,
        is_internal=False,
        channel=ticket.channel,
        client_msg_id=None,
        author_name=author_name,
        fmt="html",
    )
    ticket.save(update_fields=["last_seq", "last_public_seq", "updated_at"])
    audit_record(actor=None, action="ticket.bot_reply", obj=ticket, changes={"seq": result.message.seq})
    _broadcast_message(ticket, result.message)
    return result


def system_message_append(ticket: Ticket, body: str, *, internal: bool = True) -> Message:
    """A system line in the thread (merge notices, chat events, automation), inside the caller's transaction.

    The ticket is re-read under its row lock: the caller's object may predate another service's message in
    the same transaction, and a stale `last_seq` would reuse a seq.
    """
    if not transaction.get_connection().in_atomic_block:
        raise InvalidInput("system messages are written inside a service's transaction")
    ticket = lock_ticket(ticket.pk)
    result = _append(
        ticket,
        kind=AuthorKind.SYSTEM,
        actor=None,
        body=body,
        is_internal=internal,
        channel=ticket.channel,
        client_msg_id=None,
        author_name="CardDesk",
    )
    ticket.save(update_fields=["last_seq", "last_public_seq", "updated_at"])
    _broadcast_message(ticket, result.message)
    return result.message


def _require(allowed: bool, actor: AbstractBaseUser | None, ticket: Ticket) -> None:
    """Hidden tickets answer NotVisible (404); visible but forbidden ones NotAllowed (403)."""
    if allowed:
        return
    if actor is not None and TicketPolicy.can_view(actor, ticket):
        raise NotAllowed(_("You may not do this on this ticket."))
    raise NotVisible("No such ticket.")
