"""The ticket page (/console/t/<ref>/) and its read endpoints: thread, masking, reveal, messages, canned replies."""

import re

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

from helpdesk.models import AuditEvent
from tests.factories import make_customer, make_merchant, make_ticket
from tickets import services
from tickets.models import CannedReply, Ticket
from tickets.views.ticket import ticket_version

KEYS = ["ABCD-EFGH-IJKL-7890", "WXYZ-1234-5678-QRST"]
PHONE = "13812345678"


def _page(ticket: Ticket) -> str:
    return reverse("console:ticket", args=[ticket.reference])


@pytest.fixture
def conversation(shop, queue, agent):
    """A thread of every kind: customer (1), agent reply (2), internal note (3), customer (4), then a duplicate
    merged into it: its customer message (5) and the system line recording the merge (6)."""
    ticket = make_ticket(shop=shop, queue=queue, body="我付款了但没收到卡密")
    services.agent_reply_post(ticket=ticket, actor=agent, body="您好，我们正在查询")
    services.internal_note_post(ticket=ticket, actor=agent, body="内部：上游渠道延迟")
    services.customer_message_post(ticket=ticket, actor=None, body="请尽快")
    duplicate = make_ticket(shop=shop, queue=queue, customer=ticket.customer, body="重复提交")
    services.ticket_merge(source=duplicate, target=ticket, actor=agent)
    return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def with_secrets(shop, queue):
    """A ticket whose customer has a phone number and whose order delivered two card keys."""
    customer = make_customer(shop, name="王小明", phone=PHONE)
    order = services.order_upsert(
        shop=shop, order_no="DD-9001", actor=None, customer=customer, product="游戏点卡", card_keys=KEYS
    )
    return make_ticket(
        shop=shop, queue=queue, customer=customer, order=order, body=f"卡密 {KEYS[0]} 提示无效，电话 {PHONE}"
    )


def _articles(content: str) -> list[tuple[str, str]]:
    """(seq, class attribute) of every message in the thread."""
    return re.findall(r'<article class="([^"]+)" data-seq="(\d+)"', content)


@pytest.mark.django_db
def test_ticket_page_renders_the_thread_with_a_style_per_author_kind(client, agent, conversation):
    client.force_login(agent)
    response = client.get(_page(conversation))
    assert response.status_code == 200
    assertTemplateUsed(response, "console/ticket.html")
    articles = _articles(response.content.decode())
    classes = [cls for cls, _seq in articles]
    assert classes[:4] == ["msg msg-customer", "msg msg-agent", "msg msg-agent msg-note", "msg msg-customer"]
    assert "msg msg-customer" in classes[4:]  # the duplicate's message, moved here
    assert classes[-1] == "msg msg-system msg-note"
    assert [int(seq) for _cls, seq in articles] == list(range(1, conversation.last_seq + 1))
    for text in ["我付款了但没收到卡密", "您好，我们正在查询", "内部：上游渠道延迟", "was merged into this ticket"]:
        assertContains(response, text)
    assertContains(response, f'data-last-seq="{conversation.last_seq}"')


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["agent", "supervisor", "merchant"])
def test_internal_notes_are_shown_to_the_desk_marked_as_notes(client, agent, supervisor, shop, conversation, who):
    user = {"agent": agent, "supervisor": supervisor, "merchant": make_merchant(shop)}[who]
    client.force_login(user)
    response = client.get(_page(conversation))
    assertContains(response, "内部：上游渠道延迟")
    assertContains(response, 'aria-label="Internal note Agent-A"')


@pytest.mark.django_db
def test_ticket_page_shows_reply_fields_merge_and_history_to_the_agent(client, agent, conversation):
    client.force_login(agent)
    response = client.get(_page(conversation))
    for form_action in ["ticket-reply", "ticket-fields", "ticket-merge"]:
        assertContains(response, f'action="{reverse(f"console:{form_action}", args=[conversation.reference])}"')
    assertContains(response, 'id="assign-me"')
    assertContains(response, 'id="solve"')
    assertContains(response, "ticket.merge_received")
    assert response.context["reply_form"]["seen_seq"].value() == conversation.last_seq


@pytest.mark.django_db
def test_card_keys_and_phone_are_masked_everywhere_on_the_page(client, supervisor, with_secrets):
    client.force_login(supervisor)
    response = client.get(_page(with_secrets))
    assertContains(response, "<li>ABCD-****-****-7890</li>", html=True)
    assertContains(response, "<li>WXYZ-****-****-QRST</li>", html=True)
    assertContains(response, "138****5678")
    content = response.content.decode()
    for plain in [*KEYS, PHONE, "EFGH-IJKL", "1234-5678"]:
        assert plain not in content, plain


@pytest.mark.django_db
def test_reveal_button_is_offered_to_supervisors_only(client, supervisor, agent, with_secrets):
    client.force_login(supervisor)
    assertContains(client.get(_page(with_secrets)), 'id="reveal"')
    client.force_login(agent)
    assertNotContains(client.get(_page(with_secrets)), 'id="reveal"')


@pytest.mark.django_db
def test_no_reveal_button_without_card_keys(client, supervisor, conversation):
    client.force_login(supervisor)
    assertNotContains(client.get(_page(conversation)), 'id="reveal"')


@pytest.mark.django_db
def test_reveal_returns_the_plain_keys_uncached_and_audits_it(client, supervisor, with_secrets):
    client.force_login(supervisor)
    response = client.post(reverse("console:ticket-reveal", args=[with_secrets.reference]))
    assert response.status_code == 200
    assert response.json() == {"keys": KEYS}
    assert response["Cache-Control"] == "no-store"
    [event] = AuditEvent.objects.filter(action="order.card_keys_revealed")
    assert (event.actor_id, event.object_id) == (supervisor.pk, str(with_secrets.order_id))
    assert event.changes == {"ticket": with_secrets.reference, "count": 2}
    assert not any(key in str(event.changes) for key in KEYS)


@pytest.mark.django_db
def test_reveal_by_an_agent_without_the_permission_is_403_and_not_audited(client, agent, with_secrets):
    client.force_login(agent)
    response = client.post(reverse("console:ticket-reveal", args=[with_secrets.reference]))
    assert response.status_code == 403
    body = response.json()
    assert set(body) == {"error"}
    assert not any(key in response.content.decode() for key in KEYS)
    assert not AuditEvent.objects.filter(action="order.card_keys_revealed").exists()


@pytest.mark.django_db
def test_reveal_is_post_only(client, supervisor, with_secrets):
    client.force_login(supervisor)
    assert client.get(reverse("console:ticket-reveal", args=[with_secrets.reference])).status_code == 405
    assert not AuditEvent.objects.filter(action="order.card_keys_revealed").exists()


# --- the messages fragment -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("after", "seqs"), [("2", [3, 4, 5, 6]), ("5", [6]), ("6", []), ("0", [1, 2, 3, 4, 5, 6])])
def test_messages_fragment_returns_only_the_messages_after_n(client, agent, conversation, after, seqs):
    assert conversation.last_seq == 6
    client.force_login(agent)
    response = client.get(reverse("console:ticket-messages", args=[conversation.reference]), {"after": after})
    assert response.status_code == 200
    assertTemplateUsed(response, "console/_messages.html")
    assertNotContains(response, "<html")
    assert [int(seq) for _cls, seq in _articles(response.content.decode())] == seqs
    assert response["X-Last-Seq"] == "6"
    assert response["X-Ticket-Version"] == ticket_version(Ticket.objects.get(pk=conversation.pk))


@pytest.mark.django_db
@pytest.mark.parametrize("after", ["", "abc", "-5", "1.5"])
def test_messages_fragment_treats_a_bad_after_as_zero(client, agent, conversation, after):
    client.force_login(agent)
    response = client.get(reverse("console:ticket-messages", args=[conversation.reference]), {"after": after})
    assert response.status_code == 200
    assert len(_articles(response.content.decode())) == conversation.last_seq


@pytest.mark.django_db
def test_messages_fragment_includes_internal_notes_for_the_desk(client, agent, conversation):
    client.force_login(agent)
    response = client.get(reverse("console:ticket-messages", args=[conversation.reference]), {"after": 2})
    assertContains(response, "msg msg-agent msg-note")


# --- canned replies ------------------------------------------------------------------------------------


@pytest.fixture
def canned(shop, other_shop):
    body = "{customer.name}您好，订单 {order.order_no} 的卡密已补发。{customer.phone} {order.secret} — {agent.name}"
    return {
        "own": CannedReply.objects.create(title="补发", shortcut="resend", body=body, shop=shop),
        "global": CannedReply.objects.create(title="致谢", shortcut="thanks", body="谢谢 {ticket.reference}"),
        "foreign": CannedReply.objects.create(title="他店", shortcut="other", body="x", shop=other_shop),
        "inactive": CannedReply.objects.create(title="旧", shortcut="old", body="x", shop=shop, is_active=False),
    }


def _canned_url(ticket: Ticket, reply: CannedReply) -> str:
    return reverse("console:canned-reply", args=[ticket.reference, reply.pk])


@pytest.mark.django_db
def test_canned_reply_fills_customer_order_and_agent_placeholders(client, agent, with_secrets, canned):
    client.force_login(agent)
    response = client.get(_canned_url(with_secrets, canned["own"]))
    assert response.status_code == 200
    assert response.json() == {
        "id": canned["own"].pk,
        "title": "补发",
        # phone is not an allowed placeholder and unknown ones stay visible for the agent to fix
        "body": "王小明您好，订单 DD-9001 的卡密已补发。{customer.phone} {order.secret} — Agent-A",
    }


@pytest.mark.django_db
def test_canned_reply_leaves_order_placeholders_when_the_ticket_has_no_order(client, agent, conversation, canned):
    client.force_login(agent)
    body = client.get(_canned_url(conversation, canned["own"])).json()["body"]
    assert body.startswith("张三您好，订单 {order.order_no} 的卡密已补发。")


@pytest.mark.django_db
def test_global_canned_reply_is_available_to_every_shops_tickets(client, agent, with_secrets, canned):
    client.force_login(agent)
    response = client.get(_canned_url(with_secrets, canned["global"]))
    assert response.json()["body"] == f"谢谢 {with_secrets.reference}"


@pytest.mark.django_db
@pytest.mark.parametrize("which", ["foreign", "inactive"])
def test_canned_reply_of_another_shop_or_inactive_is_404(client, agent, with_secrets, canned, which):
    client.force_login(agent)
    assert client.get(_canned_url(with_secrets, canned[which])).status_code == 404
    missing = reverse("console:canned-reply", args=[with_secrets.reference, canned[which].pk + 1000])
    assert client.get(missing).status_code == 404


@pytest.mark.django_db
def test_canned_picker_lists_the_shops_and_global_replies_only(client, agent, with_secrets, canned):
    client.force_login(agent)
    response = client.get(_page(with_secrets))
    assert {r.pk for r in response.context["canned_replies"]} == {canned["own"].pk, canned["global"].pk}
    assertContains(response, f'data-url="{_canned_url(with_secrets, canned["own"])}"')
    assertNotContains(response, _canned_url(with_secrets, canned["foreign"]))
