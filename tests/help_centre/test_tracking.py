"""Tracking a ticket without an account: tokens, the tracking page, replies, marking solved, new links."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from helpdesk.models import AuditEvent, OutboxEmail
from tests.factories import make_customer, make_ticket
from tests.help_centre.conftest import CARD_KEYS, png
from tickets import services
from tickets.errors import InvalidInput, NotVisible
from tickets.models import Message, Status, TrackingToken
from tickets.services.tracking import (
    token_hash,
    tracking_token_issue,
    tracking_token_resolve,
    tracking_token_revoke,
)


@pytest.fixture
def tracked(shop, queue, order):
    ticket = make_ticket(shop=shop, queue=queue, customer=order.customer, order=order)
    return ticket, tracking_token_issue(ticket=ticket)


def url(name: str, token: str, *args) -> str:
    return reverse(f"help:{name}", args=[token, *args])


def same_page(content: bytes) -> str:
    """The page without what differs per request anyway (CSRF tokens, the language form's return path)."""
    html = content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'name="next" value="[^"]+"', "", html)


# --- the token service -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_issue_stores_only_the_hash_and_resolves(tracked, settings):
    ticket, token = tracked
    row = TrackingToken.objects.get(ticket=ticket)
    assert row.token_hash == token_hash(token) and token not in row.token_hash
    assert len(token) >= 40
    assert abs((row.expires_at - row.created_at) - timedelta(days=30)) < timedelta(seconds=5)
    assert tracking_token_resolve(token) == ticket
    assert AuditEvent.objects.filter(action="ticket.tracking_link_issued", object_id=str(ticket.pk)).exists()
    settings.TICKET_TRACKING_DAYS = 2
    second = TrackingToken.objects.get(token_hash=token_hash(tracking_token_issue(ticket=ticket)))
    assert abs((second.expires_at - second.created_at) - timedelta(days=2)) < timedelta(seconds=5)


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["unknown", "expired", "revoked", "malformed"])
def test_unknown_expired_revoked_and_malformed_tokens_raise_the_same_error(tracked, case):
    ticket, token = tracked
    if case == "unknown":
        token = "A" * 43
    elif case == "expired":
        TrackingToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif case == "revoked":
        assert tracking_token_revoke(actor=None, ticket=ticket) == 1
    else:
        token = "../../etc/passwd"
    with pytest.raises(NotVisible) as error:
        tracking_token_resolve(token)
    assert error.value.message == "No such ticket."


@pytest.mark.django_db
def test_revoke_by_id_is_audited_once_per_ticket_and_idempotent(tracked, supervisor):
    ticket, token = tracked
    other = tracking_token_issue(ticket=ticket)
    ids = list(TrackingToken.objects.values_list("pk", flat=True))
    assert tracking_token_revoke(actor=supervisor, token_ids=ids) == 2
    assert tracking_token_revoke(actor=supervisor, token_ids=ids) == 0
    events = AuditEvent.objects.filter(action="ticket.tracking_link_revoked")
    assert events.count() == 1 and events.get().actor == supervisor
    for plain in (token, other):
        with pytest.raises(NotVisible):
            tracking_token_resolve(plain)
    with pytest.raises(InvalidInput):
        tracking_token_revoke(actor=supervisor)


@pytest.mark.django_db
def test_last_used_is_stamped_at_most_every_few_minutes(tracked):
    _ticket, token = tracked
    tracking_token_resolve(token)
    first = TrackingToken.objects.get().last_used_at
    tracking_token_resolve(token)
    assert TrackingToken.objects.get().last_used_at == first
    TrackingToken.objects.update(last_used_at=first - timedelta(minutes=6))
    tracking_token_resolve(token)
    assert TrackingToken.objects.get().last_used_at > first


# --- the page --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_page_shows_status_public_thread_and_masked_order_never_notes_or_keys(client, tracked, agent):
    ticket, token = tracked
    services.agent_reply_post(ticket=ticket, actor=agent, body="已为您补发，请查收。")
    services.internal_note_post(ticket=ticket, actor=agent, body="内部备注：上游补卡单号 X-1，卡密 " + CARD_KEYS[1])
    services.customer_message_post(ticket=ticket, actor=None, body="卡密 " + CARD_KEYS[0] + " 还是无效")
    response = client.get(url("track", token))
    assert response.status_code == 200
    html = response.content.decode()
    assert ticket.reference in html and ticket.subject in html
    assert 'id="ticket-status">Open<' in html
    assert "已为您补发" in html and "还是无效" in html
    assert "内部备注" not in html and "X-1" not in html
    for key in CARD_KEYS:
        assert key not in html
    assert "STEAM-****-****-CCCC" in html  # the order's keys, masked
    assert "SC20240601-0042" in html
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "same-origin"
    assert html.count('class="msg ') == 3


@pytest.mark.django_db
def test_a_desk_user_on_the_tracking_link_does_not_see_internal_notes_either(client, tracked, agent):
    ticket, token = tracked
    services.internal_note_post(ticket=ticket, actor=agent, body="只给客服看的备注")
    client.force_login(agent)
    assert "只给客服看的备注" not in client.get(url("track", token)).content.decode()


@pytest.mark.django_db
def test_order_details_only_for_the_buyers_email(client, shop, queue, order):
    stranger = make_customer(shop, external_id="", email="guess@example.com")
    ticket = make_ticket(shop=shop, queue=queue, customer=stranger, order=order)
    html = client.get(url("track", tracking_token_issue(ticket=ticket))).content.decode()
    assert "SC20240601-0042" in html
    assert "STEAM-" not in html and "Steam 充值卡" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["unknown", "expired", "revoked"])
def test_bad_links_all_get_the_same_friendly_404_page(client, tracked, case):
    ticket, token = tracked
    reference_page = client.get(url("track", "B" * 43))
    if case == "expired":
        TrackingToken.objects.update(expires_at=timezone.now() - timedelta(days=1))
    elif case == "revoked":
        tracking_token_revoke(actor=None, ticket=ticket)
    else:
        token = "C" * 43
    for name in ("track", "rate"):
        response = client.get(url(name, token))
        assert response.status_code == 404
        assert same_page(response.content) == same_page(reference_page.content)
        html = response.content.decode()
        assert 'id="link-invalid"' in html and 'id="link-request-form"' in html
        assert ticket.reference not in html and ticket.subject not in html
    assert client.post(url("track-reply", token), {"body": "hi"}).status_code == 404
    assert client.post(url("track-solve", token)).status_code == 404
    assert Message.objects.filter(ticket=ticket).count() == 1


@pytest.mark.django_db
def test_tracking_page_query_count_is_pinned_and_flat(client, tracked, agent, django_assert_num_queries):
    ticket, token = tracked
    client.get(url("track", token))  # stamps last_used_at; later views within minutes do not write
    # token+ticket+customer+order+buyer+shop (1), public messages (1), their attachments (1)
    with django_assert_num_queries(4):  # + the shop's chat widget (the layout's embed tag)
        client.get(url("track", token))
    for n in range(12):
        services.agent_reply_post(ticket=ticket, actor=agent, body=f"reply {n}", attachments=[png(f"{n}.png")])
        services.internal_note_post(ticket=ticket, actor=agent, body=f"note {n}")
    with django_assert_num_queries(4):  # + the shop's chat widget (the layout's embed tag)
        response = client.get(url("track", token))
    assert response.content.decode().count('class="msg ') == 13


@pytest.mark.django_db
def test_customer_reply_goes_through_the_service_and_double_submit_is_idempotent(
    client, tracked, django_capture_on_commit_callbacks
):
    ticket, token = tracked
    page = client.get(url("track", token)).content.decode()
    client_msg_id = re.search(r'name="client_msg_id" value="([0-9a-f]+)"', page).group(1)
    data = {"body": "补充：截图见附件", "client_msg_id": client_msg_id, "attachments": [png()]}
    with django_capture_on_commit_callbacks() as callbacks:
        first = client.post(url("track-reply", token), data)
    data["attachments"] = [png()]
    second = client.post(url("track-reply", token), data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == url("track", token) + "#m2"
    replies = Message.objects.filter(ticket=ticket, author_kind="customer", seq__gt=1)
    assert replies.count() == 1 and replies.get().attachments.count() == 1
    assert replies.get().author is None and replies.get().channel == "web"
    event = AuditEvent.objects.get(action="ticket.customer_message")
    assert event.actor is None and event.actor_label == f"customer:{ticket.customer_id}"
    assert callbacks  # the console hears about it after commit (the existing broadcast)
    html = client.get(url("track", token)).content.decode()
    assert "Your reply was sent." in html and "截图见附件" in html


@pytest.mark.django_db
def test_reply_errors_name_the_field_and_keep_the_text(client, tracked):
    _ticket, token = tracked
    response = client.post(url("track-reply", token), {"body": "  "})
    assert response.status_code == 400
    assert response.context["reply_form"].errors == {"body": ["Please write a reply."]}
    bad = SimpleUploadedFile("x.exe", b"MZ", content_type="application/x-msdownload")
    response = client.post(url("track-reply", token), {"body": "请看附件", "attachments": [bad]})
    assert response.status_code == 400
    assert "not accepted" in response.context["reply_form"].errors["attachments"][0]
    assert "请看附件" in response.content.decode()


@pytest.mark.django_db
def test_reply_to_a_closed_ticket_is_refused_clearly(client, tracked, agent):
    ticket, token = tracked
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.SOLVED)
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.CLOSED)
    html = client.get(url("track", token)).content.decode()
    assert 'id="reply-form"' not in html and 'id="closed-note"' in html
    response = client.post(url("track-reply", token), {"body": "还在吗"})
    assert response.status_code == 409
    assert "This ticket is closed" in response.context["reply_form"].non_field_errors()[0]


@pytest.mark.django_db
def test_customer_marks_solved_audited_as_the_customer(client, tracked, django_capture_on_commit_callbacks):
    ticket, token = tracked
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("track-solve", token))
    assert response.status_code == 302 and response["Location"] == url("rate", token)
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED and ticket.solved_at is not None
    event = AuditEvent.objects.get(action="ticket.status")
    assert event.actor is None and event.actor_label == f"customer:{ticket.customer_id}"
    assert event.changes == {"status": ["new", "solved"]}
    assert [m.subject for m in mail.outbox] == [f"[{ticket.reference}] 请为本次服务打分"]  # CSAT request
    html = client.get(url("track", token)).content.decode()
    assert 'id="solve-form"' not in html and 'id="rate-link"' in html


@pytest.mark.django_db
def test_customer_reply_reopens_a_solved_ticket(client, tracked, agent):
    ticket, token = tracked
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.SOLVED)
    client.post(url("track-reply", token), {"body": "还是不行", "client_msg_id": "r1"})
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


@pytest.mark.django_db
def test_attachments_download_through_the_link_only_public_ones(client, tracked, agent):
    ticket, token = tracked
    public = services.agent_reply_post(ticket=ticket, actor=agent, body="见附件", attachments=[png("a.png")])
    note = services.internal_note_post(ticket=ticket, actor=agent, body="内部", attachments=[png("n.png")])
    public_id = public.message.attachments.get().pk
    note_id = note.message.attachments.get().pk
    response = client.get(url("track-file", token, public_id))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert 'attachment; filename="a.png"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert client.get(url("track-file", token, note_id)).status_code == 404
    other = tracking_token_issue(ticket=make_ticket(shop=ticket.shop))
    assert client.get(url("track-file", other, public_id)).status_code == 404


@pytest.mark.django_db
def test_a_merged_ticket_link_follows_to_the_same_customers_target(client, shop, queue, agent, order):
    source = make_ticket(shop=shop, queue=queue, customer=order.customer, subject="重复提交")
    target = make_ticket(shop=shop, queue=queue, customer=order.customer, subject="原工单")
    token = tracking_token_issue(ticket=source)
    services.ticket_merge(source=source, target=target, actor=agent)
    html = client.get(url("track", token)).content.decode()
    assert target.reference in html and "原工单" in html


# --- a new link by e-mail ------------------------------------------------------------------------


@pytest.mark.django_db
def test_new_link_request_says_the_same_whatever_the_pair(client, tracked, django_capture_on_commit_callbacks):
    ticket, _token = tracked
    request_url = reverse("help:track-request")
    answers = []
    for email, reference in [
        ("zhangsan@example.com", ticket.reference.lower()),  # matches
        ("other@example.com", ticket.reference),  # wrong e-mail
        ("zhangsan@example.com", "T-999999"),  # wrong reference
    ]:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(request_url, {"email": email, "reference": reference})
        assert response.status_code == 200
        answers.append(response.content)
    assert same_page(answers[0]) == same_page(answers[1]) == same_page(answers[2])
    assert b'id="link-requested"' in answers[0]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["zhangsan@example.com"]
    new_token = re.search(r"/help/t/([A-Za-z0-9_-]+)/", mail.outbox[0].body).group(1)
    assert tracking_token_resolve(new_token) == ticket
    # Asking again within the window sends nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(request_url, {"email": "zhangsan@example.com", "reference": ticket.reference})
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_new_link_form_errors_and_limit(client, shop, settings):
    request_url = reverse("help:track-request")
    response = client.post(request_url, {"email": "nope", "reference": ""})
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "email": ["Enter a valid e-mail address, such as name@example.com."],
        "reference": ["Please enter the ticket reference."],
    }
    settings.HELP_CONTACT_RATE_LIMITS = {"link_ip": (2, 600)}
    for _ in range(2):
        assert client.post(request_url, {"email": "a@example.com", "reference": "T-000001"}).status_code == 200
    response = client.post(request_url, {"email": "a@example.com", "reference": "T-000001"})
    assert response.status_code == 429
    assert "at most 2 every 10 minutes" in response.context["form"].non_field_errors()[0]


@pytest.mark.django_db
def test_expired_page_offers_the_request_form(client, tracked):
    _ticket, token = tracked
    TrackingToken.objects.update(expires_at=timezone.now())
    html = client.get(url("track", token)).content.decode()
    assert f'action="{reverse("help:track-request")}"' in html
    assert OutboxEmail.objects.count() == 0
