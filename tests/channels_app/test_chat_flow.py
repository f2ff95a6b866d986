"""The chat services end to end, without sockets: open → message → accept → reply → end → rate."""

import pytest

from channels_app import selectors, services
from channels_app.models import ChatSession, ChatState
from channels_app.tokens import context_token_verify
from tests.chat_support import SECRET, sign
from tickets import services as ticket_services
from tickets.models import Channel, Message


def _open(widget, **claims):
    claims_obj = context_token_verify(sign(**claims), SECRET)
    return services.chat_session_open(widget=widget, claims=claims_obj, language="zh-hans")


@pytest.mark.django_db(transaction=True)
def test_a_chat_goes_from_waiting_to_active_to_rated(widget, online_agent):
    opened = _open(
        widget,
        orders=[{"order_no": "D20261201001", "product": "Steam 100", "amount": "100.00", "payment_status": "paid",
                 "delivery_status": "pending", "card_keys": ["ABCD-EFGH-IJKL-7890"]}],
    )  # fmt: skip
    session = opened.session
    assert session.state == ChatState.NEW and session.ticket is None
    sent = services.chat_customer_message(session_id=session.pk, body="付款成功但没收到卡密", client_msg_id="c1")
    session.refresh_from_db()
    assert sent.started and session.state == ChatState.QUEUED
    ticket = session.ticket
    assert ticket.channel == Channel.CHAT and ticket.live_chat and ticket.order.order_no == "D20261201001"
    assert selectors.queue_status(session).position == 1
    again = services.chat_customer_message(session_id=session.pk, body="付款成功但没收到卡密", client_msg_id="c1")
    assert not again.result.created and again.result.message.seq == sent.result.message.seq
    services.chat_accept(session_id=session.pk, actor=online_agent)
    session.refresh_from_db()
    assert session.state == ChatState.ACTIVE and session.agent == online_agent
    ticket.refresh_from_db()
    assert ticket.assignee == online_agent
    ticket_services.agent_reply_post(ticket=ticket, actor=online_agent, body="已为您补发：ABCD-EFGH-IJKL-7890")
    payloads = selectors.public_messages_after(ticket.pk, 0)
    assert [p["author"]["kind"] for p in payloads] == ["customer", "system", "agent"]
    assert "ABCD-EFGH-IJKL-7890" not in payloads[-1]["body"]  # card keys masked in every output
    assert [p["prev_seq"] for p in payloads] == [0, payloads[0]["seq"], payloads[1]["seq"]]
    services.chat_end_by_customer(session_id=session.pk)
    session.refresh_from_db()
    ticket.refresh_from_db()
    assert session.state == ChatState.ENDED and ticket.status == "solved" and not ticket.live_chat
    services.chat_rate(session_id=session.pk, score=5, comment="很快")
    ticket.refresh_from_db()
    assert ticket.csat_score == 5


@pytest.mark.django_db(transaction=True)
def test_without_agents_the_chat_continues_as_a_ticket_with_a_tracking_email(widget, mailoutbox):
    opened = _open(widget)
    services.chat_customer_message(session_id=opened.session.pk, body="你好，在吗", client_msg_id="c1")
    session = ChatSession.objects.get(pk=opened.session.pk)
    assert session.state == ChatState.MISSED and session.end_reason == "offline"
    assert not session.ticket.live_chat
    assert any("lilei@example.com" in m.to for m in mailoutbox)
    assert Message.objects.filter(ticket=session.ticket, author_kind="system", is_internal=False).exists()
