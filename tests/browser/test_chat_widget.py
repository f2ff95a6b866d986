"""Live chat in real browsers: the customer's widget on the demo shop page and the agent's chat desk, end to end.

The widget lives in an open shadow root (div#carddesk-chat); Playwright's CSS selectors pierce it, so
`#carddesk-chat .launcher` finds the button inside. Everything a socket or a fetch brings is awaited with
`expect(...)` (auto-retrying, up to WAIT ms), never with sleeps.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

import pytest

from tests.browser.conftest import SHOTS, agent_page, expect, off_loop, wait_live
from tests.chat_support import online_agent, widget  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

WAIT = 15_000  # ms: socket round trips, a page reload after accept/end, the widget's config fetch
EXTERNAL_ID = "buyer-42"
ORDER_NO = "SC20240601-0042"
FIRST_MESSAGE = "Hello, I paid but my Steam card never arrived."
REPLY = "Sorry about that, I am re-sending your card right now."
COMMENT = "Quick and friendly, thanks!"
TMP = Path(tempfile.gettempdir())  # /tmp: chat-widget.png and chat-desk.png, looked at by a person


def _customer_with_order(shop):
    """A signed-in shop customer (external_id) with one paid, delivered order."""
    from tests.factories import make_customer
    from tickets import services
    from tickets.models import DeliveryStatus, PaymentStatus

    customer = make_customer(shop, external_id=EXTERNAL_ID, name="Li Lei", email="lilei@example.com")
    order = services.order_upsert(
        shop=shop,
        order_no=ORDER_NO,
        actor=None,
        customer=customer,
        product="Steam gift card 100",
        quantity=1,
        amount="100.00",
        payment_status=PaymentStatus.PAID,
        payment_channel="alipay",
        delivery_status=DeliveryStatus.DELIVERED,
        card_keys=["STEAM-AAAA-BBBB-CCCC"],
    )
    return customer, order


def _demo_url(server, shop, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"shop": shop.slug, **params, "lang": "en"}.items())
    return f"{server.url}/chat/demo/?{query}"


def _open_widget(page):
    """Click the launcher (appended once the widget's config arrived) and return a locator inside the shadow root."""
    w = page.locator("#carddesk-chat")
    launcher = w.locator(".launcher")
    expect(launcher).to_have_text("Chat with us", timeout=WAIT)
    launcher.click()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(w.locator(".panel")).to_be_visible()
    return w


def _say(w, text: str):
    """Type into the widget's composer, press Enter; return the customer's bubble once the server echoed it."""
    box = w.locator(".composer textarea")
    expect(box).to_be_visible(timeout=WAIT)  # shown once the socket's session frame arrived
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")
    bubble = w.locator(".log li.msg.customer").filter(has_text=text)
    expect(bubble).to_have_count(1)
    expect(bubble).to_have_attribute("data-seq", re.compile(r"^\d+$"), timeout=WAIT)  # stored: it has a seq
    expect(bubble).not_to_have_class(re.compile(r"\bpending\b"))
    return bubble


def test_customer_chats_with_agent_then_rates_it(asgi_server, widget, online_agent, new_context):  # noqa: F811
    server, shop = asgi_server, widget.shop
    customer, order = off_loop(_customer_with_order, shop)
    started = time.monotonic()

    # The customer, signed in on the shop's page, opens the widget (context token: no pre-chat form).
    c = new_context().new_page()
    c.goto(_demo_url(server, shop, customer=EXTERNAL_ID))
    expect(c.locator("main")).to_contain_text("Signed in as Li Lei.")
    w = _open_widget(c)
    expect(w.locator(".title")).to_have_text(shop.name)
    expect(w.locator(".prechat")).to_be_hidden()

    # The agent opens the chat desk before anyone writes: nobody is waiting yet.
    a = agent_page(new_context, server, online_agent.username, "/console/chats/")
    wait_live(a)
    expect(a.locator("#incoming")).to_contain_text("No one is waiting.")
    expect(a.locator("#presence")).to_have_value("online")

    # The customer writes; the chat waits in the queue.
    _say(w, FIRST_MESSAGE)
    expect(w.locator(".status")).to_contain_text("You are number 1 in the queue.", timeout=WAIT)

    # ... and appears in the agent's waiting list, live, with the order number from the context token.
    waiting = a.locator("#incoming li.incoming-chat")
    expect(waiting).to_have_count(1, timeout=WAIT)
    expect(waiting).to_contain_text("Li Lei")
    expect(waiting).to_contain_text(ORDER_NO)
    waiting.get_by_role("button", name="Accept").click()

    # Accepting reloads the desk with the chat's panel: the customer's message and the order facts.
    panel = a.locator(".chat-panel")
    expect(panel).to_have_count(1, timeout=WAIT)
    expect(panel.locator("header h2")).to_contain_text("Li Lei")
    expect(panel.locator(".chat-order")).to_contain_text(ORDER_NO)
    expect(panel.locator(".chat-order")).to_contain_text("Steam gift card 100")
    expect(panel.locator(".thread article.msg-customer")).to_contain_text(FIRST_MESSAGE)
    expect(a.locator("#incoming")).to_contain_text("No one is waiting.")
    wait_live(a)  # the panel's frames go over this socket: it must be open (and watching) before we send
    expect(w.locator(".status")).to_have_text(
        f"You are chatting with {online_agent.agent_profile.display_name}.", timeout=WAIT
    )
    expect(w.locator(".log li.msg.system")).to_contain_text("joined the chat", timeout=WAIT)

    # The agent replies with Enter; the reply is stored (shown in the panel) and reaches the widget live.
    compose = panel.locator("form.chat-compose textarea")
    compose.fill(REPLY)
    compose.press("Enter")
    expect(panel.locator(".thread article.msg-agent")).to_contain_text(REPLY, timeout=WAIT)
    expect(compose).to_have_value("", timeout=WAIT)  # cleared on the server's ack
    agent_bubble = w.locator(".log li.msg.agent")
    expect(agent_bubble).to_contain_text(REPLY, timeout=WAIT)
    expect(agent_bubble.locator(".who")).to_have_text(online_agent.agent_profile.display_name)
    expect(w.locator(".log li.msg.customer")).to_have_count(1)  # the customer's own message is not shown twice

    SHOTS.mkdir(parents=True, exist_ok=True)
    c.screenshot(path=str(TMP / "chat-widget.png"))
    a.screenshot(path=str(TMP / "chat-desk.png"), full_page=True)

    # The agent ends the chat: the desk reloads without the panel; the widget asks for a rating.
    panel.locator("form.end-chat button").click()
    expect(a.locator(".chat-panel")).to_have_count(0, timeout=WAIT)
    expect(a.locator(".chat-panels .empty")).to_be_visible()
    rating = w.locator("form.rating")
    expect(rating).to_be_visible(timeout=WAIT)
    expect(rating.locator(".rate-title")).to_have_text("How did we do?")
    expect(w.locator(".status")).to_have_text("This chat has ended.")
    expect(w.locator(".log li.msg.system").last).to_contain_text("The agent ended the chat.", timeout=WAIT)
    expect(w.locator(".composer")).to_be_hidden()
    expect(rating.locator(".star")).to_have_count(5)

    # 4 stars and a comment.
    rating.locator('.star[data-score="4"]').click()
    expect(rating.locator(".star.on")).to_have_count(4)
    expect(rating.locator('.star[data-score="4"]')).to_have_attribute("aria-checked", "true")
    rating.locator("textarea").fill(COMMENT)
    c.screenshot(path=str(SHOTS / "chat-widget-rating.png"))
    rating.get_by_role("button", name="Send rating").click()
    expect(rating).to_have_text("Thank you for your feedback!", timeout=WAIT)
    c.screenshot(path=str(SHOTS / "chat-widget-rated.png"))
    elapsed = time.monotonic() - started

    def stored():
        from channels_app.models import ChatSession
        from tickets.models import CsatResponse, Message

        session = ChatSession.objects.select_related("ticket").get(customer=customer)
        ticket = session.ticket
        mine = Message.objects.filter(ticket=ticket, author_kind="customer")
        return {
            "state": session.state,
            "agent": session.agent_id,
            "csat": ticket.csat_score,
            "comment": CsatResponse.objects.get(ticket=ticket).comment,
            "channel": ticket.channel,
            "status": ticket.status,
            "order": ticket.order_id,
            "customer_messages": [m.body for m in mine],
            "first_copies": sum(FIRST_MESSAGE in m.body for m in mine),
            "agent_replies": Message.objects.filter(ticket=ticket, author_kind="agent", body__contains=REPLY).count(),
        }

    row = off_loop(stored)
    assert row["csat"] == 4
    assert row["comment"] == COMMENT
    assert row["channel"] == "chat"
    assert row["state"] == "ended"
    assert row["status"] == "solved"
    assert row["agent"] == online_agent.pk
    assert row["order"] == order.pk
    assert row["first_copies"] == 1, row["customer_messages"]
    assert len(row["customer_messages"]) == 1, row["customer_messages"]
    assert row["agent_replies"] == 1
    print(f"chat round trip in the browsers: {elapsed:.1f} s")


def test_prechat_form_refuses_a_bad_email_then_starts_the_chat(asgi_server, widget, online_agent, new_context):  # noqa: F811
    server, shop = asgi_server, widget.shop
    c = new_context().new_page()
    c.goto(_demo_url(server, shop, anonymous=1))
    expect(c.locator("main")).to_contain_text("Not signed in")
    w = _open_widget(c)

    form = w.locator("form.prechat")
    expect(form).to_be_visible()
    expect(w.locator(".composer")).to_be_hidden()
    expect(form.locator(".greeting")).to_have_text("Hi! How can we help you today?")
    error = form.locator(".form-error")
    expect(error).to_have_text("")

    # Not an address at all: refused in the page, nothing is sent. (Only "some text" is asserted: the widget
    # currently shows the e-mail field's label, T.email, as the error; see widget.js's prechat submit handler.)
    form.locator("input[name=name]").fill("Han Meimei")
    form.locator("input[name=email]").fill("not-an-email")
    form.get_by_role("button", name="Start chat").click()
    expect(error).not_to_have_text("")
    expect(error).to_be_visible()
    expect(form.locator("input[name=email]")).to_be_focused()
    expect(form).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    c.screenshot(path=str(SHOTS / "chat-widget-prechat-error.png"))

    # The browser accepts "name@host", the server does not: its refusal is shown in the same place.
    form.locator("input[name=email]").fill("hanmeimei@localhost-no-dot")
    form.get_by_role("button", name="Start chat").click()
    expect(error).to_have_text("Please enter a valid e-mail address.", timeout=WAIT)
    expect(form).to_be_visible()
    expect(w.locator(".composer")).to_be_hidden()

    # A valid address: the form goes away and the chat starts.
    form.locator("input[name=email]").fill("hanmeimei@example.com")
    form.get_by_role("button", name="Start chat").click()
    expect(form).to_be_hidden(timeout=WAIT)
    _say(w, "Where is my order?")
    expect(w.locator(".status")).to_contain_text("You are number 1 in the queue.", timeout=WAIT)

    def stored():
        from channels_app.models import ChatSession

        session = ChatSession.objects.select_related("customer", "ticket").get()
        return session.customer.email, session.customer.name, session.state, session.ticket.channel

    assert off_loop(stored) == ("hanmeimei@example.com", "Han Meimei", "queued", "chat")


def test_without_an_agent_online_the_message_continues_as_a_ticket(asgi_server, widget, new_context):  # noqa: F811
    server, shop = asgi_server, widget.shop
    customer, _order = off_loop(_customer_with_order, shop)
    c = new_context().new_page()
    c.goto(_demo_url(server, shop, customer=EXTERNAL_ID))
    w = _open_widget(c)
    status = w.locator(".status")
    expect(status).to_contain_text("No agent is online right now.", timeout=WAIT)

    _say(w, FIRST_MESSAGE)

    def reference():
        from channels_app.models import ChatSession

        session = ChatSession.objects.select_related("ticket").get(customer=customer)
        return session.ticket.reference, session.state, session.ticket.channel, session.ticket.live_chat

    ref, state, channel, live = off_loop(reference)
    assert (state, channel, live) == ("missed", "chat", False)
    expect(status).to_have_text(f"This conversation continues as ticket {ref}; we will reply by e-mail.", timeout=WAIT)
    expect(w.locator(".log li.msg.system")).to_contain_text("No agent is available right now.", timeout=WAIT)
    expect(w.locator(".composer")).to_be_visible()  # the customer may still add to the ticket
    expect(w.locator(".transcript")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    c.screenshot(path=str(SHOTS / "chat-widget-missed.png"))
