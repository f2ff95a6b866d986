"""The widget's HTTP endpoints and the agents' chat desk pages."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from channels_app import services
from channels_app.files import file_url
from channels_app.models import ChatSession, ChatState
from channels_app.tokens import context_token_verify
from tests.chat_support import SECRET, sign
from tests.factories import make_agent
from tickets.models import Attachment


def _opened(widget):
    return services.chat_session_open(widget=widget, claims=context_token_verify(sign(), SECRET), language="en")


@pytest.mark.django_db
def test_config_is_translated_and_answers_cors_only_for_allowed_origins(client, widget, online_agent):
    url = reverse("chat:config", args=[widget.public_key])
    zh = client.get(url, {"lang": "zh-hans"}, HTTP_ORIGIN="https://shop.example.com")
    assert zh.status_code == 200 and zh["Access-Control-Allow-Origin"] == "https://shop.example.com"
    data = zh.json()
    assert data["strings"]["send"] == "发送" and data["agents_available"] is True
    en = client.get(url, {"lang": "en"}, HTTP_ORIGIN="https://evil.example.net")
    assert en.json()["strings"]["send"] == "Send" and "Access-Control-Allow-Origin" not in en
    assert client.get(reverse("chat:config", args=["pk_unknown"])).status_code == 404


@pytest.mark.django_db
def test_an_upload_posts_a_message_with_the_file_and_a_signed_link_serves_it(client, widget, online_agent):
    opened = _opened(widget)
    url = reverse("chat:upload", args=[widget.public_key])
    image = SimpleUploadedFile("screen.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png")
    response = client.post(url, {"file": image, "client_msg_id": "up-1"}, HTTP_X_CHAT_RESUME=opened.resume_token)
    assert response.status_code == 201 and response.json()["client_msg_id"] == "up-1"
    session = ChatSession.objects.get(pk=opened.session.pk)
    assert session.state == ChatState.QUEUED  # the file opened the chat
    attachment = Attachment.objects.get(message__ticket=session.ticket)
    link = file_url(ticket_id=session.ticket_id, attachment_id=attachment.pk)
    served = client.get(link)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert client.get(link.replace("/f/", "/f/x")).status_code == 404  # tampered link
    other = file_url(ticket_id=session.ticket_id + 1000, attachment_id=attachment.pk)
    assert client.get(other).status_code == 404  # a link names one file of one conversation


@pytest.mark.django_db
def test_uploads_need_the_resume_token_and_an_allowed_file(client, widget, online_agent):
    opened = _opened(widget)
    url = reverse("chat:upload", args=[widget.public_key])
    no_token = client.post(url, {"file": SimpleUploadedFile("a.png", b"x", content_type="image/png")})
    assert no_token.status_code == 404
    exe = SimpleUploadedFile("run.exe", b"MZ" + b"0" * 10, content_type="application/octet-stream")
    bad = client.post(url, {"file": exe}, HTTP_X_CHAT_RESUME=opened.resume_token)
    assert bad.status_code == 400 and bad.json()["error"]["field"]
    missing = client.post(url, {}, HTTP_X_CHAT_RESUME=opened.resume_token)
    assert missing.status_code == 400 and missing.json()["error"]["field"] == "file"


@pytest.mark.django_db
def test_the_desk_lists_waiting_and_active_chats_in_a_fixed_number_of_queries(
    client, widget, online_agent, django_assert_num_queries, django_assert_max_num_queries
):
    sessions = []
    for i in range(6):
        opened = services.chat_session_open(widget=widget, claims=context_token_verify(sign(sub=f"c{i}"), SECRET))
        services.chat_customer_message(session_id=opened.session.pk, body=f"问题 {i}", client_msg_id=f"c{i}")
        sessions.append(opened.session)
    services.chat_accept(session_id=sessions[0].pk, actor=online_agent)
    client.force_login(online_agent)
    response = client.get(reverse("chats:desk"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="incoming-chat"') == 5 and html.count('class="chat-panel"') == 1
    with django_assert_num_queries(18):
        client.get(reverse("chats:desk"))
    services.chat_accept(session_id=sessions[1].pk, actor=online_agent)
    services.chat_accept(session_id=sessions[2].pk, actor=online_agent)
    # Each extra panel costs 5 queries (thread, attachments, canned replies, transfer targets); panels are
    # bounded by the agent's capacity, and the waiting list is one query however long it is.
    with django_assert_num_queries(28):
        client.get(reverse("chats:desk"))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("chats:incoming")).status_code == 200


@pytest.mark.django_db
def test_chats_of_other_queues_are_not_found_for_an_agent(client, widget, online_agent, other_queue):
    opened = _opened(widget)
    services.chat_customer_message(session_id=opened.session.pk, body="hi", client_msg_id="o1")
    outsider = make_agent(other_queue, username="outsider")
    client.force_login(outsider)
    assert client.post(reverse("chats:accept", args=[opened.session.pk])).status_code == 404
    assert "incoming-chat" not in client.get(reverse("chats:desk")).content.decode()
    opened.session.refresh_from_db()
    assert opened.session.state == ChatState.QUEUED


@pytest.mark.django_db
def test_accept_end_and_transfer_from_the_desk(client, widget, online_agent, other_queue):
    opened = _opened(widget)
    services.chat_customer_message(session_id=opened.session.pk, body="hi", client_msg_id="d1")
    client.force_login(online_agent)
    assert client.post(reverse("chats:accept", args=[opened.session.pk])).status_code == 302
    session = ChatSession.objects.get(pk=opened.session.pk)
    assert session.state == ChatState.ACTIVE
    bad = client.post(reverse("chats:transfer", args=[session.pk]), {"to": "queue:999999"}, follow=True)
    assert "Choose an agent or a queue" in bad.content.decode()
    assert client.post(reverse("chats:end", args=[session.pk])).status_code == 302
    session.refresh_from_db()
    assert session.state == ChatState.ENDED and session.ticket.status == "solved"
    again = client.post(reverse("chats:end", args=[session.pk]), follow=True)
    assert "already ended" in again.content.decode()
