import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from helpdesk.models import AuditEvent
from tests.factories import make_customer, make_ticket
from tickets import services
from tickets.errors import InvalidInput, NotAllowed, NotVisible, TicketClosed
from tickets.models import Message, Status


@pytest.mark.django_db
def test_seq_increases_per_ticket_and_first_reply_opens(ticket, agent):
    reply = services.agent_reply_post(ticket=ticket, actor=agent, body="您好，正在为您核实订单。").message
    note = services.internal_note_post(ticket=ticket, actor=agent, body="已联系上游补卡").message
    customer = services.customer_message_post(ticket=ticket, actor=None, body="好的谢谢").message
    assert [reply.seq, note.seq, customer.seq] == [2, 3, 4]
    ticket.refresh_from_db()
    assert ticket.last_seq == 4
    assert ticket.status == Status.OPEN
    assert ticket.first_response_at is not None
    assert note.is_internal and not reply.is_internal
    other = make_ticket(shop=ticket.shop, queue=ticket.queue)
    assert services.agent_reply_post(ticket=other, actor=agent, body="hi").message.seq == 2


@pytest.mark.django_db
def test_same_client_msg_id_stores_one_message(ticket):
    first = services.customer_message_post(ticket=ticket, actor=None, body="还没到账", client_msg_id="m-1")
    again = services.customer_message_post(ticket=ticket, actor=None, body="还没到账", client_msg_id="m-1")
    assert first.created and not again.created
    assert again.message.pk == first.message.pk
    assert Message.objects.filter(ticket=ticket, client_msg_id="m-1").count() == 1
    assert AuditEvent.objects.filter(action="ticket.customer_message").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_with_one_client_msg_id_store_one_message(shop, queue):
    """Two connections racing with the same client_msg_id: the ticket row lock serialises them."""
    import threading

    ticket = make_ticket(shop=shop, queue=queue)
    barrier = threading.Barrier(4)
    results = []

    def post():
        barrier.wait()
        try:
            results.append(services.customer_message_post(ticket=ticket, actor=None, body="在吗", client_msg_id="x"))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    assert sum(r.created for r in results) == 1
    assert Message.objects.filter(ticket=ticket).count() == 2


@pytest.mark.django_db
def test_customer_reply_reopens_recently_solved_ticket(ticket, agent):
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.SOLVED)
    services.customer_message_post(ticket=ticket, actor=None, body="卡密还是提示无效")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.solved_at is None
    event = AuditEvent.objects.filter(action="ticket.customer_message").latest("id")
    assert event.changes["status"] == ["solved", "open"]


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Status.PENDING, Status.ON_HOLD])
def test_customer_reply_moves_waiting_ticket_back_to_open(ticket, agent, status):
    services.ticket_change_status(ticket=ticket, actor=agent, status=status)
    services.customer_message_post(ticket=ticket, actor=None, body="补充截图")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


@pytest.mark.django_db
def test_closed_or_long_solved_ticket_refuses_customer_reply(ticket, agent, settings):
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.SOLVED)
    ticket.refresh_from_db()
    type(ticket).objects.filter(pk=ticket.pk).update(
        solved_at=timezone.now() - timezone.timedelta(days=settings.TICKET_REOPEN_DAYS + 1)
    )
    with pytest.raises(TicketClosed):
        services.customer_message_post(ticket=ticket, actor=None, body="again")
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.CLOSED)
    with pytest.raises(TicketClosed):
        services.customer_message_post(ticket=ticket, actor=None, body="again")
    assert Message.objects.filter(ticket=ticket).count() == 1


@pytest.mark.django_db
def test_card_keys_and_phones_are_masked_in_stored_bodies(shop, queue, agent):
    customer = make_customer(shop)
    order = services.order_upsert(
        shop=shop, order_no="NO-1", actor=None, customer=customer, card_keys=["ABCD-EFGH-IJKL-7890"]
    )
    ticket = make_ticket(shop=shop, queue=queue, customer=customer, order=order)
    message = services.agent_reply_post(
        ticket=ticket, actor=agent, body="您的卡密是 ABCD-EFGH-IJKL-7890，如有问题请致电 13812345678"
    ).message
    assert "ABCD-****-****-7890" in message.body
    assert "EFGH" not in message.body
    assert "138****5678" in message.body


@pytest.mark.django_db
def test_html_is_sanitised(ticket, agent):
    message = services.agent_reply_post(
        ticket=ticket, actor=agent, body='<p onclick="x()">hi<script>alert(1)</script></p>', fmt="html"
    ).message
    assert "<script" not in message.body and "onclick" not in message.body
    text = services.customer_message_post(ticket=ticket, actor=None, body="<b>bold?</b>").message
    assert text.body == "&lt;b&gt;bold?&lt;/b&gt;"


@pytest.mark.django_db
def test_attachments_are_checked_and_stored(ticket, agent, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    png = SimpleUploadedFile("shot.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, content_type="image/png")
    message = services.customer_message_post(ticket=ticket, actor=None, body="截图", attachments=[png]).message
    attachment = message.attachments.get()
    assert (attachment.filename, attachment.content_type, attachment.size) == ("shot.png", "image/png", 108)
    assert len(attachment.sha256) == 64

    fake = SimpleUploadedFile("shot.png", b"MZ\x90\x00 not an image", content_type="image/png")
    exe = SimpleUploadedFile("tool.exe", b"MZ\x90\x00", content_type="application/x-msdownload")
    settings.ATTACHMENT_MAX_BYTES = 50
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * 100, content_type="application/pdf")
    count = Message.objects.filter(ticket=ticket).count()
    for upload, fragment in ((fake, "not a valid"), (exe, "not accepted"), (big, "larger than")):
        with pytest.raises(InvalidInput) as err:
            services.customer_message_post(ticket=ticket, actor=None, body="附件", attachments=[upload])
        assert err.value.field == "attachments" and fragment in err.value.message
    assert Message.objects.filter(ticket=ticket).count() == count


@pytest.mark.django_db
def test_empty_body_is_refused_with_the_field(ticket, agent):
    with pytest.raises(InvalidInput) as err:
        services.agent_reply_post(ticket=ticket, actor=agent, body="  \n ")
    assert err.value.field == "body"


@pytest.mark.django_db
def test_outsiders_cannot_post(ticket, other_queue):
    from tests.factories import make_agent

    outsider = make_agent(other_queue, username="outsider")
    with pytest.raises(NotVisible):
        services.agent_reply_post(ticket=ticket, actor=outsider, body="hi")
    with pytest.raises(NotVisible):
        services.internal_note_post(ticket=ticket, actor=outsider, body="hi")


@pytest.mark.django_db
def test_customer_may_not_post_agent_reply_on_own_ticket(shop, queue):
    from helpdesk.roles import Role
    from tests.factories import make_user

    user = make_user(Role.CUSTOMER, username="buyer")
    ticket = make_ticket(shop=shop, queue=queue, customer=make_customer(shop, user=user))
    with pytest.raises(NotAllowed):
        services.agent_reply_post(ticket=ticket, actor=user, body="I am staff now")
    assert services.customer_message_post(ticket=ticket, actor=user, body="still waiting").created
