"""Help beside the conversation: the bot's answers while the customer waits, and the transcript e-mail."""

from __future__ import annotations

import html
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import override

from channels_app import bot
from channels_app.models import ChatSession, ChatState, ChatWidget
from channels_app.selectors import token_hash
from channels_app.services.sessions import _lock
from helpdesk import context
from helpdesk.audit import audit_record
from helpdesk.outbox import email_enqueue
from tickets.errors import InvalidInput, InvalidTransition
from tickets.models import Ticket
from tickets.selectors.help_centre import public_thread
from tickets.services.content import body_text
from tickets.services.help_centre import customer_label
from tickets.services.messages import PostResult, bot_reply_post


@transaction.atomic
def chat_transcript_send(*, session_id: int, email: Any = None) -> str:
    """E-mail the conversation (public messages only) to the customer's address or the one given."""

    session = _lock(session_id)
    if session.ticket_id is None:
        raise InvalidTransition(_("There is nothing to send yet."), field="email")
    # To the address we know; another one only when the customer gave none (so the widget cannot mail strangers).
    known = (session.customer.email or "").strip().lower()
    address = known or (email.strip().lower() if isinstance(email, str) else "")
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidInput(_("Please enter a valid e-mail address."), field="email") from None
    ticket = session.ticket
    lines = [
        {"author": m.author_name, "kind": m.author_kind, "at": m.created_at, "text": body_text(m.body)}
        for m in public_thread(ticket)
    ]
    stamp = Ticket.objects.filter(pk=ticket.pk).values_list("last_public_seq", flat=True).first()
    email_enqueue(
        to=address,
        template="chat_transcript",
        context={"shop_name": session.shop.name, "reference": ticket.reference, "lines": lines},
        key=f"chat-transcript:{session.pk}:{stamp}:{token_hash(address)[:12]}",
        language=session.language,
    )
    with context.bound(actor_label=customer_label(session.customer_id)):
        audit_record(
            actor=None,
            action="chat.transcript",
            obj=session,
            changes={"to_own_address": address == session.customer.email},
        )
    return address


URGENT_PAYMENT_INTENTS = frozenset({"paid_not_delivered", "double_charge"})


def chat_bot_answer(*, session_id: int, text: str) -> PostResult | None:
    """While the customer waits, answer a recognised top intent (unless they asked for a person)."""
    session = ChatSession.objects.select_related("ticket").filter(pk=session_id).first()
    if session is None or session.ticket is None or session.state != ChatState.QUEUED or session.wants_human:
        return None
    widget = ChatWidget.objects.filter(shop_id=session.shop_id).values("bot_enabled").first()
    if not widget or not widget["bot_enabled"]:
        return None
    with override(session.language):
        answer = bot.answer_for(text)
        if answer is None:
            return None
        if answer.intent in URGENT_PAYMENT_INTENTS:
            # Money taken and nothing delivered (or taken twice): straight to a person, no canned deflection.
            with transaction.atomic():
                audit_record(actor=None, action="chat.urgent_payment", obj=session, changes={"intent": answer.intent})
            return None
        closing = _("An agent will join you shortly — choose “talk to a person” if you would rather wait.")
        body = f"<p>{html.escape(answer.text)}</p><p>{html.escape(str(closing))}</p>"
    with context.bound(actor_label="chat-bot"):
        result = bot_reply_post(ticket=session.ticket, body=body)
        with transaction.atomic():
            audit_record(
                actor=None, action="chat.bot_answer", obj=session,
                changes={"intent": answer.intent, "confidence": answer.confidence},
            )  # fmt: skip
    return result
