"""The e-mail outbox: recorded with the change, sent after commit, once; retried; swept; the notifications."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from helpdesk.models import OutboxEmail
from helpdesk.outbox import OutboxError, email_enqueue, outbox_email_due_ids, outbox_email_send
from helpdesk.tasks import outbox_email_sweep, send_outbox_email
from tests.factories import make_customer, make_ticket
from tickets import services
from tickets.models import Channel, Status
from tickets.services.tracking import tracking_token_resolve


def _enqueue(key: str = "k-1", **extra) -> OutboxEmail:
    values = {
        "to": "a@example.com",
        "template": "tracking_link",
        "context": {"reference": "T-000001", "subject": "测试", "shop_name": "Star Cards", "link": "https://x/t/abc/"},
        "key": key,
        "language": "en",
    }
    values.update(extra)
    return email_enqueue(**values)


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused():
    with pytest.raises(OutboxError):
        _enqueue()


@pytest.mark.django_db
def test_sent_only_after_commit_and_never_on_rollback(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        email = _enqueue()
        assert mail.outbox == []  # recorded, not sent, while the change is uncommitted
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.status == OutboxEmail.Status.SENT and email.sent_at is not None

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                _enqueue("k-rolled-back")
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
    assert callbacks == [] and not OutboxEmail.objects.filter(key="k-rolled-back").exists()
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_same_key_stores_one_row_and_sends_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        first = _enqueue()
        second = _enqueue(to="b@example.com")
    assert first.pk == second.pk and OutboxEmail.objects.count() == 1
    assert outbox_email_send(email_id=first.pk).status == "skipped"  # a retried task or the sweep
    send_outbox_email.delay(first.pk)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["a@example.com"]
    assert mail.outbox[0].extra_headers["Message-ID"].startswith("<")  # stable, derived from the key


@pytest.mark.django_db
def test_a_failing_send_is_retried_with_backoff_then_given_up(monkeypatch, settings):
    from django.core.mail import EmailMultiAlternatives

    with transaction.atomic():
        email = _enqueue()

    def broken(self, fail_silently=False):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", broken)
    result = outbox_email_send(email_id=email.pk)
    email.refresh_from_db()
    assert (result.status, result.retry_in) == ("retry", 60)
    assert email.status == OutboxEmail.Status.PENDING and email.attempts == 1
    assert "smtp down" in email.last_error and email.next_attempt_at > timezone.now()
    assert outbox_email_send(email_id=email.pk).retry_in == 120
    settings.OUTBOX_EMAIL_MAX_ATTEMPTS = 3
    assert outbox_email_send(email_id=email.pk).status == "failed"
    email.refresh_from_db()
    assert email.status == OutboxEmail.Status.FAILED and email.attempts == 3
    assert outbox_email_send(email_id=email.pk).status == "skipped"


@pytest.mark.django_db
def test_sweep_sends_stragglers_and_due_retries_only(django_capture_on_commit_callbacks):
    with transaction.atomic():  # committed by nobody: the on-commit send is "lost" (broker outage)
        lost = _enqueue("lost")
        fresh = _enqueue("fresh")
        later = _enqueue("later")
    old = timezone.now() - timedelta(minutes=5)
    OutboxEmail.objects.filter(pk__in=[lost.pk, later.pk]).update(created_at=old)
    OutboxEmail.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert outbox_email_due_ids() == [lost.pk]
    assert outbox_email_sweep.delay().get() == 1
    assert [m.extra_headers["X-CardDesk-Key"] for m in mail.outbox] == ["lost"]
    assert OutboxEmail.objects.get(pk=fresh.pk).status == OutboxEmail.Status.PENDING


@pytest.mark.django_db
def test_a_broker_outage_at_commit_loses_nothing(monkeypatch, django_capture_on_commit_callbacks):
    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(send_outbox_email, "delay", down)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        email = _enqueue()
    assert OutboxEmail.objects.get(pk=email.pk).status == OutboxEmail.Status.PENDING


@pytest.mark.django_db
def test_bodies_are_encrypted_at_rest_and_print_masked():
    with transaction.atomic():
        email = _enqueue(
            context={"reference": "T-1", "subject": "s", "shop_name": "S", "link": "https://x/help/t/SECRETTOKEN123/"}
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT body_text FROM helpdesk_outboxemail WHERE id = %s", [email.pk])
        (stored,) = cursor.fetchone()
    assert "SECRETTOKEN123" not in stored
    email.refresh_from_db()
    assert "SECRETTOKEN123" in email.body_text.reveal()
    assert "SECRETTOKEN123" not in str(email.body_text) and "/t/****" in str(email.body_text)


# --- the notifications the ticket services send --------------------------------------------------


@pytest.fixture
def customer_ticket(shop, queue):
    customer = make_customer(shop, external_id="", name="Bob", email="bob@example.com", language="en")
    return make_ticket(shop=shop, queue=queue, customer=customer, subject="Card key invalid")


@pytest.mark.django_db
def test_agent_public_reply_emails_the_customer_with_a_working_link(
    customer_ticket, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = services.agent_reply_post(ticket=customer_ticket, actor=agent, body="Re-sent: ABCD-EFGH-IJKL-MNOP")
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert (
        sent.to == ["bob@example.com"] and sent.subject == f"[{customer_ticket.reference}] New reply: Card key invalid"
    )
    assert "ABCD-EFGH-IJKL-MNOP" not in sent.body and "ABCD-****-****-MNOP" in sent.body
    token = re.search(r"https://help\.example\.com/help/t/([A-Za-z0-9_-]+)/", sent.body).group(1)
    assert tracking_token_resolve(token) == customer_ticket
    assert OutboxEmail.objects.get().key == f"agent-reply:{result.message.pk}"
    # The same reply posted again (same client_msg_id path) sends nothing more.
    services.agent_reply_post(ticket=customer_ticket, actor=agent, body="x", client_msg_id="c1")
    services.agent_reply_post(ticket=customer_ticket, actor=agent, body="x", client_msg_id="c1")
    assert OutboxEmail.objects.count() == 2


@pytest.mark.django_db
def test_internal_notes_chats_and_customers_without_email_send_nothing(shop, queue, customer_ticket, agent):
    services.internal_note_post(ticket=customer_ticket, actor=agent, body="note")
    chat = make_ticket(shop=shop, queue=queue, customer=customer_ticket.customer, channel=Channel.CHAT)
    type(chat).objects.filter(pk=chat.pk).update(live_chat=True)  # the customer reads it in the widget
    services.agent_reply_post(ticket=chat, actor=agent, body="live answer")
    silent = make_customer(shop, external_id="anon-1", name="", email="")
    services.agent_reply_post(ticket=make_ticket(shop=shop, queue=queue, customer=silent), actor=agent, body="hi")
    assert OutboxEmail.objects.count() == 0


@pytest.mark.django_db
def test_solve_sends_one_csat_request_per_solve(customer_ticket, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_change_status(ticket=customer_ticket, actor=agent, status=Status.SOLVED)
    assert [m.subject for m in mail.outbox] == [f"[{customer_ticket.reference}] How did we do?"]
    rate_link = re.search(r"https://help\.example\.com/help/t/[A-Za-z0-9_-]+/rate/", mail.outbox[0].body)
    assert rate_link is not None
    html = mail.outbox[0].alternatives[0][0]
    assert "?score=5" in html and "?score=1" in html
    services.ticket_change_status(ticket=customer_ticket, actor=agent, status=Status.SOLVED)  # no change
    assert OutboxEmail.objects.filter(template="csat_request").count() == 1
    services.ticket_change_status(ticket=customer_ticket, actor=agent, status=Status.OPEN)
    services.ticket_change_status(ticket=customer_ticket, actor=agent, status=Status.PENDING)
    assert OutboxEmail.objects.filter(template="csat_request").count() == 1


@pytest.mark.django_db
def test_no_csat_request_once_rated(customer_ticket, agent):
    from tickets.services.csat import csat_record

    services.ticket_change_status(ticket=customer_ticket, actor=agent, status=Status.SOLVED)
    csat_record(ticket=customer_ticket, actor=None, score=5)
    services.ticket_change_status(ticket=customer_ticket, actor=agent, status=Status.OPEN)
    services.ticket_change_status(ticket=customer_ticket, actor=agent, status=Status.SOLVED)
    assert OutboxEmail.objects.filter(template="csat_request").count() == 1


@pytest.mark.django_db
def test_chinese_customer_gets_chinese_templates(shop, queue, agent, django_capture_on_commit_callbacks):
    customer = make_customer(shop, external_id="", name="张三", email="zs@example.com", language="zh-hans")
    ticket = make_ticket(shop=shop, queue=queue, customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        services.agent_reply_post(ticket=ticket, actor=agent, body="您好")
    assert mail.outbox[0].subject.endswith("客服已回复：付款成功但没有收到卡密")
    assert "张三，您好" in mail.outbox[0].body


@pytest.mark.django_db
def test_notifications_can_be_suppressed_for_bulk_changes(customer_ticket, agent):
    from tickets.services.notifications import notifications_suppressed

    with notifications_suppressed():
        services.agent_reply_post(ticket=customer_ticket, actor=agent, body="demo")
        services.ticket_change_status(ticket=customer_ticket, actor=agent, status=Status.SOLVED)
    assert OutboxEmail.objects.count() == 0
    services.ticket_change_status(ticket=customer_ticket, actor=agent, status=Status.OPEN)
    services.agent_reply_post(ticket=customer_ticket, actor=agent, body="real")
    assert OutboxEmail.objects.count() == 1


@pytest.mark.django_db
def test_a_chat_that_is_no_longer_live_is_answered_by_email(shop, queue, customer_ticket, agent):
    """Missed or ended chats continue as tickets: the customer left the widget, so replies are e-mailed."""
    chat = make_ticket(shop=shop, queue=queue, customer=customer_ticket.customer, channel=Channel.CHAT)
    services.agent_reply_post(ticket=chat, actor=agent, body="answer after the chat")
    assert OutboxEmail.objects.filter(template="agent_reply").count() == 1
