"""The customer's side of a chat: open or resume, send, read, end, rate, transcript, deflect.

Each function is typed, keyword-only and atomic, and writes through the ticket services, so a chat message is
an ordinary ticket message (seq under the ticket's row lock, idempotent client_msg_id, masked, audited).
Customers act with `actor=None`; the audit trail records them as "customer:<id>" (help_centre.customer_label).
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from channels_app.models import ChatSession, ChatState, ChatWidget, EndReason
from channels_app.realtime import read_changed, session_changed, waiting_changed
from channels_app.selectors import available_agent_ids, category_for_topic, chat_queue_for, token_hash
from channels_app.tokens import ContextClaims
from helpdesk import context
from helpdesk.audit import audit_record
from helpdesk.masking import mask_text
from tickets.errors import InvalidInput, InvalidTransition, NotVisible
from tickets.locks import lock_ticket
from tickets.models import Channel, Customer, Order, Status, Ticket
from tickets.selectors.help_centre import customer_for_user, order_find
from tickets.services.content import body_text
from tickets.services.csat import csat_record
from tickets.services.customers import customer_upsert, order_upsert
from tickets.services.help_centre import customer_label
from tickets.services.messages import PostResult, customer_message_post, system_message_append
from tickets.services.notifications import ticket_received_notify
from tickets.services.tickets import ticket_change_status, ticket_create
from tickets.services.tracking import tracking_token_issue

# A resume token keeps working this long after the chat ended (to read the transcript and rate it).
RESUME_AFTER_END = timedelta(days=1)
ORDER_FIELDS = ("product", "quantity", "amount", "currency", "payment_status", "payment_channel", "delivery_status")


@dataclass(frozen=True)
class Prechat:
    """The short form shown when the shop passed no context token."""

    email: str
    name: str = ""
    order_no: str = ""
    topic: str = ""  # a category slug, or free text

    @classmethod
    def from_frame(cls, data: Any) -> Prechat:
        if not isinstance(data, dict):
            raise InvalidInput(_("Please fill in the form."), field="prechat")
        values = {k: data.get(k) for k in ("email", "name", "order_no", "topic")}
        for key, value in values.items():
            if value is not None and not isinstance(value, str):
                raise InvalidInput(_("%(field)s must be text.") % {"field": key}, field=key)
        email = (values["email"] or "").strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidInput(_("Please enter a valid e-mail address."), field="email") from None
        return cls(
            email=email,
            name=(values["name"] or "").strip()[:120],
            order_no=(values["order_no"] or "").strip()[:64],
            topic=(values["topic"] or "").strip()[:200],
        )


@dataclass(frozen=True)
class Opened:
    session: ChatSession
    resume_token: str  # plain: handed to the widget once, only its hash is stored


def _language(language: str | None, fallback: str) -> str:
    return language if language in {"zh-hans", "en"} else fallback


def _orders_from_claims(widget: ChatWidget, customer: Customer, claims: ContextClaims) -> list[Order]:
    orders = []
    for item in claims.orders:
        fields: dict[str, Any] = {k: item[k] for k in ORDER_FIELDS if item.get(k) is not None}
        if isinstance(item.get("card_keys"), list):
            fields["card_keys"] = [str(k) for k in item["card_keys"]]
        # A bare order number attaches an order the desk already knows; it never creates an empty one.
        if len(item) == 1:
            existing = order_find(shop=widget.shop, order_no=item["order_no"])
            if existing is not None:
                orders.append(existing)
            continue
        try:
            orders.append(
                order_upsert(
                    shop=widget.shop,
                    order_no=item["order_no"],
                    actor=None,
                    customer=customer,
                    raw=item,
                    **fields,
                )
            )
        except (TypeError, ValueError, ArithmeticError) as error:
            raise InvalidInput(f"orders: {error}", field="token") from None
    return orders


@transaction.atomic
def chat_session_open(
    *,
    widget: ChatWidget,
    claims: ContextClaims | None = None,
    prechat: Prechat | None = None,
    user: AbstractBaseUser | None = None,
    language: str | None = None,
    page_url: str = "",
) -> Opened:
    """Start a conversation for a customer known by a verified token, a help-centre login, or the pre-chat form.

    The ticket is created with the first message (chat_customer_message), so an opened widget that never
    speaks leaves only this session row.
    """
    shop = widget.shop
    customer: Customer | None = None
    orders: list[Order] = []
    topic = ""
    claimed_order_no = ""
    with context.bound(actor_label="chat-widget"):
        if claims is not None:
            customer = customer_upsert(
                shop=shop,
                actor=None,
                external_id=claims.external_id,
                name=claims.name,
                email=claims.email,
                tier=claims.tier if claims.tier in {"normal", "vip"} else None,
                language=_language(claims.language, shop.default_language) if claims.language else None,
            )
            orders = _orders_from_claims(widget, customer, claims)
        elif user is not None and getattr(user, "is_authenticated", False):
            customer = customer_for_user(user, shop)
        if customer is None:
            if prechat is None:
                raise InvalidInput(_("Please tell us your e-mail address first."), field="prechat")
            customer = customer_upsert(shop=shop, actor=None, email=prechat.email, name=prechat.name, language=language)
            order = _verified_order(shop, prechat.order_no, prechat.email) if prechat.order_no else None
            orders = [order] if order is not None else []
            claimed_order_no = "" if order is not None else prechat.order_no
        if prechat is not None:
            topic = prechat.topic
    token = secrets.token_urlsafe(32)
    session = ChatSession.objects.create(
        shop=shop,
        customer=customer,
        topic=topic,
        language=_language(language, customer.language or shop.default_language),
        page_url=(page_url or "")[:500] if str(page_url or "").startswith(("http://", "https://")) else "",
        resume_token_hash=token_hash(token),
        order=orders[0] if orders else None,  # attached to the ticket with the first message
        claimed_order_no=claimed_order_no,
    )
    with context.bound(actor_label=customer_label(customer)):
        audit_record(
            actor=None,
            action="chat.open",
            obj=session,
            changes={"via": "token" if claims else ("login" if prechat is None else "prechat"),
                     "orders": [o.order_no for o in orders]},
        )  # fmt: skip
    return Opened(session=session, resume_token=token)


def _verified_order(shop, order_no: str, email: str) -> Order | None:
    """An order typed into the pre-chat form is attached only when it is this e-mail's (or nobody's yet).

    Anyone can type any order number: attaching a stranger's order would show its context to the agent as if
    it were the customer's. Whether the number exists is not revealed either way.
    """
    order = order_find(shop=shop, order_no=order_no)
    if order is None:
        return None
    owner_email = (order.customer.email or "").lower() if order.customer_id else ""
    return order if owner_email in {"", email.lower()} else None


def resume_allowed(session: ChatSession) -> bool:
    if session.state in {ChatState.ENDED, ChatState.MISSED} and session.ended_at:
        return timezone.now() - session.ended_at <= RESUME_AFTER_END
    return True


def _lock(session_id: int) -> ChatSession:
    session = (
        ChatSession.objects.select_for_update(of=("self",))
        .select_related("shop", "customer", "ticket")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        raise NotVisible("No such conversation.")
    return session


# Table and column names come from model metadata; values are bound parameters.
_MESSAGE_LOCK_SQL = f'SELECT * FROM "{ChatSession._meta.db_table}" WHERE "id" = %s FOR UPDATE'  # noqa: S608


def _lock_for_message(session_id: int) -> ChatSession:
    """The session alone under its row lock, written out: every chat message takes it, and the ORM-built
    lock with its shop, customer and ticket joined cost 3 ms of CPU here, most of a message's budget
    (bench/chat_load.py). The message service reads the ticket under its own lock; the first message, which
    opens the ticket, loads the rest as it needs them."""
    session = next(iter(ChatSession.objects.raw(_MESSAGE_LOCK_SQL, [session_id])), None)
    if session is None:
        raise NotVisible("No such conversation.")
    return session


@dataclass(frozen=True)
class Sent:
    result: PostResult
    session: ChatSession
    started: bool  # this message created the ticket


@transaction.atomic
def chat_customer_message(
    *,
    session_id: int,
    body: str,
    client_msg_id: str | None,
    attachments: Sequence[UploadedFile] = (),
) -> Sent:
    """Post the customer's message; the first one opens the chat ticket and puts the chat in its queue.

    With no agent online the message is still taken: the chat becomes "missed" at once and continues as a
    ticket, with the tracking link e-mailed so the customer can follow it (replies are e-mailed too).
    """
    session = _lock_for_message(session_id)
    if session.state == ChatState.ENDED:
        raise InvalidTransition(_("This chat has ended; start a new one to ask something else."), field="body")
    label = customer_label(session.customer_id)
    with context.bound(actor_label=label):
        if session.state == ChatState.NEW:
            return _start(session, body=body, client_msg_id=client_msg_id, attachments=attachments)
        result = customer_message_post(
            ticket=session.ticket_id,
            actor=None,
            body=body,
            client_msg_id=client_msg_id,
            channel=Channel.CHAT,
            attachments=attachments,
        )
    return Sent(result=result, session=session, started=False)


def _start(session: ChatSession, *, body: str, client_msg_id: str | None, attachments: Sequence[UploadedFile]) -> Sent:
    widget = ChatWidget.objects.select_related("queue").get(shop_id=session.shop_id)
    category = category_for_topic(session.topic)
    queue = chat_queue_for(widget, category)
    subject_source = (category.name if category else session.topic) or body_text(html.escape(body or ""))
    secrets_ = session.order.card_keys.reveal().splitlines() if session.order_id and session.order.card_keys else []
    # Bodies are masked by the message service; a subject taken from the body is masked here.
    subject = mask_text(" ".join(subject_source.split())[:80], secrets_) or _("Live chat")
    ticket = ticket_create(
        shop=session.shop,
        actor=None,
        customer=session.customer,
        subject=subject,
        body=body,
        channel=Channel.CHAT,
        order=session.order,
        queue=queue,
        category=category,
        language=session.language,
        client_msg_id=client_msg_id,
        attachments=attachments,
    )
    if session.claimed_order_no:
        with override(ticket.language):
            note = _("Order number given in the pre-chat form, not matched to this customer: %(order_no)s") % {
                "order_no": session.claimed_order_no
            }
        system_message_append(ticket, note, internal=True)
    now = timezone.now()
    session.ticket = ticket
    session.queue = queue
    session.queued_at = now
    online = bool(available_agent_ids(queue))
    if online:
        session.state = ChatState.QUEUED
        _set_live(ticket, True)
    else:
        session.state = ChatState.MISSED
        session.end_reason = EndReason.OFFLINE
        session.ended_at = now
        _continue_as_ticket(session)
    session.save(update_fields=["ticket", "queue", "queued_at", "state", "end_reason", "ended_at"])
    audit_record(
        actor=None, action="chat.start", obj=session, changes={"ticket": ticket.reference, "state": session.state}
    )
    session_changed(session)
    waiting_changed(session.queue_id)
    if online and queue is not None and queue.auto_assign:
        from channels_app.services.agents import chat_auto_assign

        session = chat_auto_assign(session_id=session.pk) or session
    first = ticket.messages.order_by("seq").first()
    return Sent(result=PostResult(first, created=True), session=session, started=True)


def _set_live(ticket: Ticket, live: bool) -> None:
    ticket = lock_ticket(ticket.pk)
    if ticket.live_chat != live:
        ticket.live_chat = live
        ticket.save(update_fields=["live_chat"])


def _continue_as_ticket(session: ChatSession) -> None:
    """The chat will be answered later: stop treating it as live and e-mail the customer a tracking link."""
    _set_live(session.ticket, False)
    with override(session.language):
        line = _("No agent is available right now. We will answer here and by e-mail as soon as we can.")
    system_message_append(session.ticket, line, internal=False)
    if session.customer.email:
        token = tracking_token_issue(ticket=session.ticket, audit=False)
        ticket_received_notify(ticket=session.ticket, token=token)


@transaction.atomic
def chat_read(*, session_id: int, side: str, seq: int) -> int:
    """Move a read marker forward (never back); returns the stored position."""
    if side not in {"customer", "agent"} or not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise InvalidInput("read needs a non-negative integer seq", field="seq")
    field = f"{side}_read_seq"
    session = _lock(session_id)
    if session.ticket_id is None:
        return 0
    # Never past the last message the customer may see: a read marker must not reveal internal notes.
    seq = min(seq, Ticket.objects.filter(pk=session.ticket_id).values_list("last_public_seq", flat=True).first() or 0)
    current = getattr(session, field)
    if seq > current:
        setattr(session, field, seq)
        session.save(update_fields=[field])
        read_changed(session, side=side, seq=seq)
        return seq
    return current


def _end(session: ChatSession, *, reason: str, actor: AbstractBaseUser | None) -> ChatSession:
    """Finish a live chat (caller holds the session lock). Active chats are solved; waiting ones continue as tickets."""
    now = timezone.now()
    before = session.state
    if before in {ChatState.ENDED, ChatState.MISSED} and reason != EndReason.DEFLECTED:
        return session
    if before == ChatState.ACTIVE or reason == EndReason.DEFLECTED or session.ticket_id is None:
        session.state = ChatState.ENDED
    else:  # nobody accepted yet: keep the question in the queue as a ticket
        session.state = ChatState.MISSED
    session.end_reason = reason
    session.ended_at = session.ended_at or now
    session.save(update_fields=["state", "end_reason", "ended_at", "deflected_by"])
    if session.ticket_id:
        ticket = session.ticket
        if before in {ChatState.QUEUED, ChatState.ACTIVE}:
            with override(session.language):
                who = {
                    EndReason.CUSTOMER: _("The customer ended the chat."),
                    EndReason.AGENT: _("The agent ended the chat."),
                    EndReason.DEFLECTED: _("The customer's question was answered by an article."),
                    EndReason.TIMEOUT: _("Nobody answered in time; the conversation continues as a ticket."),
                }.get(reason, _("The chat ended."))
                system_message_append(ticket, str(who), internal=False)
        if session.state == ChatState.ENDED:
            _set_live(ticket, False)
            ticket.refresh_from_db(fields=["status"])
            if ticket.status not in {Status.SOLVED, Status.CLOSED} and (
                before == ChatState.ACTIVE or reason == EndReason.DEFLECTED
            ):
                ticket_change_status(ticket=ticket, actor=None, status=Status.SOLVED)
        else:
            _continue_as_ticket(session)
    audit_record(
        actor=actor, action="chat.end", obj=session, changes={"state": [before, session.state], "reason": reason}
    )
    session_changed(session)
    if before == ChatState.QUEUED:
        waiting_changed(session.queue_id)
    return session


@transaction.atomic
def chat_end_by_customer(*, session_id: int) -> ChatSession:
    session = _lock(session_id)
    with context.bound(actor_label=customer_label(session.customer_id)):
        return _end(session, reason=EndReason.CUSTOMER, actor=None)


@transaction.atomic
def chat_deflect(*, session_id: int, article_id: int) -> ChatSession:
    """The customer says a suggested article solved it: the chat ends as deflected (credited to the article)."""
    from knowledge.selectors import article_get_visible

    session = _lock(session_id)
    try:
        article = article_get_visible(int(article_id), shop=session.shop)
    except (TypeError, ValueError):
        raise InvalidInput("deflect needs an article id", field="article") from None
    except Exception as error:  # the KB's own not-found
        raise NotVisible("No such article.") from error
    if session.state not in {ChatState.NEW, ChatState.QUEUED}:
        raise InvalidTransition(_("An agent is already helping you in this chat."), field="article")
    session.deflected_by = article
    with context.bound(actor_label=customer_label(session.customer_id)):
        return _end(session, reason=EndReason.DEFLECTED, actor=None)


@transaction.atomic
def chat_wants_human(*, session_id: int) -> ChatSession:
    """ "Talk to a person": the bot stays quiet from now on."""
    session = _lock(session_id)
    if not session.wants_human:
        session.wants_human = True
        session.save(update_fields=["wants_human"])
        with context.bound(actor_label=customer_label(session.customer_id)):
            audit_record(actor=None, action="chat.wants_human", obj=session)
    return session


def chat_rate(*, session_id: int, score: Any, comment: Any = "") -> None:
    """1–5 and an optional comment, stored as the ticket's CSAT (credited to the agent who had the chat)."""
    session = ChatSession.objects.select_related("ticket").filter(pk=session_id).first()
    if session is None or session.ticket is None:
        raise InvalidTransition(_("There is nothing to rate yet."), field="score")
    if session.state != ChatState.ENDED:
        raise InvalidTransition(_("You can rate the chat once it has ended."), field="score")
    if not isinstance(score, int) or isinstance(score, bool):
        raise InvalidInput(_("Choose a score from 1 to 5."), field="score")
    with context.bound(actor_label=customer_label(session.customer_id)):
        csat_record(ticket=session.ticket, actor=None, score=score, comment=comment if isinstance(comment, str) else "")
