"""Chat rules: queue position and ETA, capacity and the accept race, transfers, the missed sweep, security."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from channels_app import selectors, services
from channels_app.models import ChatSession, ChatState, ChatTransfer
from channels_app.tokens import context_token_verify
from helpdesk.models import OutboxEmail
from tests.chat_support import SECRET, sign
from tests.factories import make_agent, make_customer
from tickets import services as ticket_services
from tickets.errors import InvalidInput, InvalidTransition, NotVisible
from tickets.models import AgentProfile, Message, Ticket


def _chat(widget, sub="u-1", body="在吗", **claims):
    opened = services.chat_session_open(
        widget=widget, claims=context_token_verify(sign(sub=sub, **claims), SECRET), language="zh-hans"
    )
    services.chat_customer_message(session_id=opened.session.pk, body=body, client_msg_id=f"{sub}-1")
    return ChatSession.objects.select_related("ticket", "queue").get(pk=opened.session.pk)


def _online(user):
    AgentProfile.objects.filter(user=user).update(presence="online", presence_changed_at=timezone.now())


@pytest.mark.django_db
def test_positions_count_those_ahead_and_the_eta_uses_recent_chats(widget, online_agent):
    first, second, third = (_chat(widget, sub=f"u{i}") for i in range(3))
    assert [selectors.queue_status(s).position for s in (first, second, third)] == [1, 2, 3]
    # History: accepted 60 s after queuing, handled in 10 minutes.
    AgentProfile.objects.filter(user=online_agent).update(max_concurrent_chats=1)
    old = _chat(widget, sub="old")
    now = timezone.now()
    ChatSession.objects.filter(pk=old.pk).update(
        state="ended", agent=online_agent, queued_at=now - timedelta(minutes=20),
        accepted_at=now - timedelta(minutes=19), ended_at=now - timedelta(minutes=9),
    )  # fmt: skip
    status = selectors.queue_status(first)
    assert status.agents_available and status.eta_seconds == 60  # one free seat: the typical time to accept
    assert selectors.queue_status(third).eta_seconds == 60 + 2 * 600  # two chats must finish first
    services.chat_accept(session_id=first.pk, actor=online_agent)
    second.refresh_from_db()
    assert selectors.queue_status(second).position == 1


@pytest.mark.django_db
def test_nobody_online_means_no_eta_and_a_stale_console_counts_as_offline(widget, online_agent):
    AgentProfile.objects.filter(user=online_agent).update(presence_changed_at=timezone.now() - timedelta(minutes=5))
    session = services.chat_session_open(widget=widget, claims=context_token_verify(sign(), SECRET)).session
    assert selectors.queue_status(session).agents_available is False


@pytest.mark.django_db(transaction=True)
def test_two_agents_accepting_at_once_get_one_chat_and_one_clear_refusal(widget, online_agent, queue):
    rival = make_agent(queue, username="rival")
    _online(rival)
    session = _chat(widget)
    results: list = []

    def accept(agent):
        try:
            services.chat_accept(session_id=session.pk, actor=agent)
            results.append("won")
        except InvalidTransition:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(a,)) for a in (online_agent, rival)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["refused", "won"]
    session.refresh_from_db()
    assert session.state == ChatState.ACTIVE


@pytest.mark.django_db
def test_an_agent_at_capacity_cannot_take_another_chat(widget, online_agent):
    AgentProfile.objects.filter(user=online_agent).update(max_concurrent_chats=1)
    services.chat_accept(session_id=_chat(widget, sub="a").pk, actor=online_agent)
    with pytest.raises(services.CapacityReached):
        services.chat_accept(session_id=_chat(widget, sub="b").pk, actor=online_agent)


@pytest.mark.django_db
def test_agents_outside_the_queue_see_no_chat(widget, online_agent, other_queue):
    outsider = make_agent(other_queue, username="outsider")
    session = _chat(widget)
    with pytest.raises(NotVisible):
        services.chat_accept(session_id=session.pk, actor=outsider)
    assert selectors.incoming_chats_for(outsider) == []
    assert [c.pk for c in selectors.incoming_chats_for(online_agent)] == [session.pk]


@pytest.mark.django_db
def test_transfer_to_an_agent_and_back_to_a_queue_leaves_a_trail_and_a_note(widget, online_agent, queue, other_queue):
    colleague = make_agent(queue, username="colleague")
    _online(colleague)
    session = _chat(widget)
    services.chat_accept(session_id=session.pk, actor=online_agent)
    services.chat_transfer(session_id=session.pk, actor=online_agent, to_agent=colleague, note="VIP，先核对支付")
    session.refresh_from_db()
    assert session.agent == colleague and session.state == ChatState.ACTIVE
    assert Ticket.objects.get(pk=session.ticket_id).assignee == colleague
    assert Message.objects.filter(ticket=session.ticket, is_internal=True, body__contains="先核对支付").exists()
    services.chat_transfer(session_id=session.pk, actor=colleague, to_queue=other_queue)
    session.refresh_from_db()
    assert session.state == ChatState.QUEUED and session.queue == other_queue and session.agent is None
    assert ChatTransfer.objects.filter(session=session).count() == 2
    outsider = make_agent(other_queue, username="night-shift")
    with pytest.raises(InvalidTransition):  # only an active chat is transferred; this one waits again
        services.chat_transfer(session_id=session.pk, actor=outsider, to_queue=queue)
    stranger = make_agent(queue, username="no-seat")
    with pytest.raises(NotVisible):  # the chat left their queue: to them it no longer exists
        services.chat_accept(session_id=session.pk, actor=stranger)


@pytest.mark.django_db
def test_the_missed_sweep_turns_old_waiting_chats_into_tickets_once(widget, online_agent):
    session = _chat(widget)
    assert services.chat_missed_sweep() == 0  # not yet due
    later = timezone.now() + timedelta(seconds=widget.missed_after_seconds + 1)
    assert services.chat_missed_sweep(now=later) == 1
    assert services.chat_missed_sweep(now=later) == 0  # exactly once
    session.refresh_from_db()
    assert session.state == ChatState.MISSED and session.end_reason == "timeout"
    assert not Ticket.objects.get(pk=session.ticket_id).live_chat
    assert OutboxEmail.objects.filter(template="ticket_received", to="lilei@example.com").count() == 1


@pytest.mark.django_db
def test_a_prechat_order_number_is_attached_only_to_its_owner(widget, online_agent, shop):
    owner = make_customer(shop, external_id="owner", email="owner@example.com")
    ticket_services.order_upsert(shop=shop, order_no="D-OWNED", actor=None, customer=owner, product="Steam 50")
    stranger = services.chat_session_open(
        widget=widget, prechat=services.Prechat(email="other@example.com", order_no="D-OWNED")
    ).session
    assert stranger.order is None and stranger.claimed_order_no == "D-OWNED"
    services.chat_customer_message(session_id=stranger.pk, body="查一下这个订单", client_msg_id="x1")
    stranger.refresh_from_db()
    assert stranger.ticket.order is None
    note = Message.objects.get(ticket=stranger.ticket, is_internal=True)
    assert "D-OWNED" in note.body
    own = services.chat_session_open(
        widget=widget, prechat=services.Prechat(email="owner@example.com", order_no="D-OWNED")
    ).session
    assert own.order.order_no == "D-OWNED"
    unknown = services.chat_session_open(
        widget=widget, prechat=services.Prechat(email="x@example.com", order_no="NO-SUCH")
    ).session  # no error: whether a number exists is not revealed
    assert unknown.order is None


@pytest.mark.django_db
def test_transcripts_go_only_to_the_customers_own_address(widget, online_agent):
    session = _chat(widget)
    assert services.chat_transcript_send(session_id=session.pk, email="attacker@example.net") == "lilei@example.com"
    email = OutboxEmail.objects.get(template="chat_transcript")
    assert email.to == "lilei@example.com" and "在吗" in email.body_text.reveal()


@pytest.mark.django_db
def test_a_client_msg_id_of_someone_elses_message_is_refused_not_swallowed(widget, online_agent):
    session = _chat(widget)
    services.chat_accept(session_id=session.pk, actor=online_agent)
    ticket_services.agent_reply_post(ticket=session.ticket, actor=online_agent, body="您好", client_msg_id="same")
    with pytest.raises(InvalidInput) as error:
        services.chat_customer_message(session_id=session.pk, body="我的消息", client_msg_id="same")
    assert error.value.field == "client_msg_id"


@pytest.mark.django_db
def test_read_markers_move_forward_only_and_never_past_public_messages(widget, online_agent):
    session = _chat(widget)
    services.chat_accept(session_id=session.pk, actor=online_agent)
    ticket_services.internal_note_post(ticket=session.ticket, actor=online_agent, body="note")
    last_public = Ticket.objects.get(pk=session.ticket_id).last_public_seq
    assert services.chat_read(session_id=session.pk, side="agent", seq=999) == last_public
    assert services.chat_read(session_id=session.pk, side="agent", seq=1) == last_public


@pytest.mark.django_db
def test_ending_before_the_first_message_and_deflecting_by_an_article(widget, online_agent):
    opened = services.chat_session_open(widget=widget, claims=context_token_verify(sign(), SECRET))
    ended = services.chat_end_by_customer(session_id=opened.session.pk)
    assert ended.state == ChatState.ENDED and ended.ticket is None
    with pytest.raises(InvalidTransition):
        services.chat_customer_message(session_id=ended.pk, body="还在吗", client_msg_id="late")
    with pytest.raises(InvalidTransition):
        services.chat_rate(session_id=ended.pk, score=5)
