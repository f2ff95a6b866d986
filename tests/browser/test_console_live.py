"""The agent console in a real browser: log in, inbox, ticket, canned reply, status, while a second agent watches."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import agent_page, expect, login, off_loop, wait_live

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_reply_with_canned_reply_and_solve_while_second_agent_watches(asgi_server, desk, new_context):
    server, ticket = asgi_server, desk.ticket
    ticket_url = f"{server.url}/console/t/{ticket.reference}/"

    # Agent A logs in through the form, opens the inbox's "Unassigned" view and clicks the ticket.
    a = new_context().new_page()
    login(a, server, "agent-a")
    a.click('.views a[href="?view=unassigned"]')
    row = a.locator(f'#rows tr[data-ticket="{ticket.pk}"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text(ticket.subject)
    expect(row).to_contain_text(desk.order.order_no)
    row.locator("td.subject a").click()
    a.wait_for_url(ticket_url)
    wait_live(a)

    # Agent B opens the same ticket; A is told B is there. (Exact text: base.html renders `_('%(name)s …')` as
    # "%%(name)s …", and the line read "%Agent-B is viewing…" until console.js's fmt() ate the doubled sign.)
    b = agent_page(new_context, server, "agent-b", f"/console/t/{ticket.reference}/")
    wait_live(b)
    expect(a.locator("#presence")).to_have_text("Agent-B is viewing this ticket")
    expect(b.locator("#presence")).to_have_text("Agent-A is viewing this ticket")
    b.evaluate("window.__marker = 'no-reload'")

    # B starts typing (a note to self): A is told, live.
    b.keyboard.press("n")
    b.keyboard.type("Supplier says the second key is on its way")
    expect(a.locator("#presence")).to_have_text("Agent-B is typing a reply…")

    # A picks the canned reply by its shortcut; the server fills the placeholders from this ticket.
    a.fill("#canned-search", "delay")
    a.locator("#canned-search").dispatch_event("change")
    body = a.locator("#id_body")
    expected = f"Hello 张三, your order {desk.order.order_no} is being re-sent now."
    expect(body).to_have_value(expected)
    expect(a.locator("#canned-search")).to_have_value("")
    expect(a.locator("#reply input[name=canned_reply]")).to_have_value(str(desk.canned.pk))

    with a.expect_navigation():
        body.press("Control+Enter")
    expect(a.locator(".flash .flash-success")).to_have_text("Reply sent.")
    expect(a.locator('#thread article[data-seq="2"]')).to_contain_text(expected)

    # B gets the new message appended without a reload.
    appended = b.locator('#thread article[data-seq="2"]')
    expect(appended).to_contain_text(expected)
    expect(appended).to_have_class(re.compile(r"\bfresh\b"))
    expect(b.locator("#thread article[data-seq]")).to_have_count(2)
    assert b.evaluate("window.__marker") == "no-reload"
    assert b.url == ticket_url

    # A solves the ticket through the side panel; the status event makes B's page fetch again.
    a.select_option("#id_status", "solved")
    with b.expect_request(lambda r: "/messages/?after=2" in r.url), a.expect_navigation():
        a.click(".panel form.fields button[type=submit]")
    expect(a.locator(".flash .flash-success")).to_have_text("Ticket updated.")
    expect(a.locator(".ticket-head .status")).to_have_text("Solved")
    expect(a.locator("#id_status")).to_have_value("solved")

    # B, still on the old page, is warned that the ticket changed under it.
    stale = b.locator("#stale")
    expect(stale).to_be_visible()
    expect(stale).to_contain_text("This ticket was changed by someone else")
    assert b.evaluate("window.__marker") == "no-reload"

    def counted():
        from tickets.models import CannedReply, Ticket

        return Ticket.objects.get(pk=ticket.pk).status, CannedReply.objects.get(pk=desk.canned.pk).usage_count

    assert off_loop(counted) == ("solved", 1)

    # B leaves: A's presence line empties.
    b.close()
    expect(a.locator("#presence")).to_have_text("")


def _reply_as(agent_attr: str, body: str):
    """A server-side reply (another agent, another tab), posted off Playwright's loop so its event is broadcast."""

    def post(desk):
        from tickets import services

        return services.agent_reply_post(ticket=desk.ticket, actor=getattr(desk, agent_attr), body=body).message.seq

    return post


RECORD_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.__sockets.push(this); }
  };
})();
"""


def test_reconnect_catches_up_exactly_once(asgi_server, desk, new_context):
    server, ticket = asgi_server, desk.ticket
    context = new_context()
    context.add_init_script(RECORD_SOCKETS)
    b = context.new_page()
    login(b, server, "agent-b", f"/console/t/{ticket.reference}/")
    wait_live(b)
    b.evaluate("window.__marker = 'no-reload'")

    # Outage: the socket drops and the network stays away (the first retry is >= 600 ms later, so it fails);
    # a colleague replies meanwhile. Closing first: Chromium's offline emulation alone leaves an open socket be.
    b.evaluate("window.__sockets.forEach((s) => s.close())")
    context.set_offline(True)
    expect(b.locator("#live-status")).to_have_attribute("data-state", "offline")
    b.wait_for_function("window.__sockets.length >= 2 && window.__sockets.at(-1).readyState === WebSocket.CLOSED")
    # A retry has failed: the page is really cut off now (posting earlier raced a retry that beat the offline switch).
    assert off_loop(_reply_as("agent_a", "Posted while you were offline"), desk) == 2
    b.wait_for_timeout(500)
    expect(b.locator('#thread article[data-seq="2"]')).to_have_count(0)  # nothing arrived while offline

    # Back online: the page reconnects by itself and catches up by seq.
    context.set_offline(False)
    wait_live(b)
    expect(b.locator('#thread article[data-seq="2"]')).to_contain_text("Posted while you were offline")

    # A live event right after, then a second reconnect racing the catch-up: still one copy of each message.
    assert off_loop(_reply_as("agent_a", "And one more"), desk) == 3
    b.evaluate("window.__sockets.forEach((s) => s.close())")
    expect(b.locator('#thread article[data-seq="3"]')).to_contain_text("And one more")
    wait_live(b)
    b.wait_for_timeout(300)  # let any late duplicate fetch land before counting
    for seq in (1, 2, 3):
        expect(b.locator(f'#thread article[data-seq="{seq}"]')).to_have_count(1)
    expect(b.locator("#thread article[data-seq]")).to_have_count(3)
    assert b.evaluate("window.__marker") == "no-reload"
    assert len(b.evaluate("window.__sockets")) >= 3  # really reconnected twice


def test_keyboard_shortcuts_and_draft_that_survives_a_reload(asgi_server, desk, new_context):
    ticket_path = f"/console/t/{desk.ticket.reference}/"
    page = agent_page(new_context, asgi_server, "agent-a", ticket_path)
    wait_live(page)
    dialog, body = page.locator("#shortcuts"), page.locator("#id_body")

    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Keyboard shortcuts")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.click("button[data-shortcuts]")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    page.keyboard.press("n")
    expect(body).to_be_focused()
    expect(page.locator("#reply")).to_have_class(re.compile(r"\bis-note\b"))
    page.keyboard.press("Escape")  # leave the text box
    expect(body).not_to_be_focused()
    page.keyboard.press("r")
    expect(body).to_be_focused()
    expect(page.locator("#reply")).not_to_have_class(re.compile(r"\bis-note\b"))
    expect(body).to_have_value("")  # the shortcut key is not typed into the box

    page.keyboard.type("Resent both keys? Check your mailbox.")
    expect(dialog).to_be_hidden()  # "?" typed in the box is text, not the help
    draft_key = f"carddesk.draft.{desk.ticket.pk}"
    assert page.evaluate("(k) => localStorage.getItem(k)", draft_key) == "Resent both keys? Check your mailbox."

    # The typed draft survives a reload, and leaving and coming back.
    page.reload()
    expect(body).to_have_value("Resent both keys? Check your mailbox.")
    page.goto(asgi_server.url + "/console/")
    page.goto(asgi_server.url + ticket_path)
    expect(body).to_have_value("Resent both keys? Check your mailbox.")
    wait_live(page)

    page.keyboard.press("r")
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    expect(page.locator(".flash .flash-success")).to_have_text("Reply sent.")
    sent = page.locator('#thread article[data-seq="2"]')
    expect(sent).to_contain_text("Resent both keys? Check your mailbox.")
    expect(sent).not_to_have_class(re.compile(r"\bmsg-note\b"))
    expect(page.locator("#id_body")).to_have_value("")
    assert page.evaluate("(k) => localStorage.getItem(k)", draft_key) is None


def test_failed_reply_shows_the_error_and_keeps_the_form(asgi_server, desk, new_context):
    ticket_path = f"/console/t/{desk.ticket.reference}/"
    page = agent_page(new_context, asgi_server, "agent-a", ticket_path)
    wait_live(page)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)

    # Empty: the browser refuses to send it.
    page.keyboard.press("r")
    page.keyboard.press("Control+Enter")
    assert page.locator("#id_body").evaluate("(el) => el.validity.valueMissing") is True
    page.wait_for_timeout(200)
    assert posts == []
    assert page.url.endswith(ticket_path)

    # Blank after trimming: the server refuses it, says why, and the form is still there.
    page.fill("#id_body", "   ")
    with page.expect_navigation():
        page.click("#reply button[type=submit]")
    error = page.locator("#reply .error[role=alert]")
    expect(error).to_have_text("This field is required.")
    expect(page.locator("#reply")).to_be_visible()
    expect(page.locator("#thread article[data-seq]")).to_have_count(1)

    # A real failure with real text: the ticket was closed meanwhile. The text the agent wrote is kept.
    def close_ticket(desk):
        from tickets import services

        services.ticket_change_status(ticket=desk.ticket, actor=None, status="solved")
        services.ticket_change_status(ticket=desk.ticket, actor=None, status="closed")

    off_loop(close_ticket, desk)
    page.fill("#id_body", "Your keys were re-sent to zhangsan@example.com.")
    with page.expect_navigation():
        page.click("#reply button[type=submit]")
    expect(page.locator("#reply .error[role=alert]")).to_contain_text("This ticket is closed.")
    expect(page.locator("#id_body")).to_have_value("Your keys were re-sent to zhangsan@example.com.")
    expect(page.locator("#thread article[data-seq]")).to_have_count(1)


def test_draft_survives_a_failed_send_and_a_reload(asgi_server, desk, new_context):
    ticket_path = f"/console/t/{desk.ticket.reference}/"
    page = agent_page(new_context, asgi_server, "agent-a", ticket_path)
    wait_live(page)

    def close_ticket(desk):
        from tickets import services

        services.ticket_change_status(ticket=desk.ticket, actor=None, status="solved")
        services.ticket_change_status(ticket=desk.ticket, actor=None, status="closed")

    off_loop(close_ticket, desk)
    page.keyboard.press("r")
    page.keyboard.type("Important answer I do not want to type twice")
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    expect(page.locator("#reply .error[role=alert]")).to_contain_text("This ticket is closed.")
    page.goto(asgi_server.url + ticket_path)
    expect(page.locator("#id_body")).to_have_value("Important answer I do not want to type twice", timeout=1000)


def test_enter_in_the_canned_reply_search_inserts_and_does_not_send(asgi_server, desk, new_context):
    page = agent_page(new_context, asgi_server, "agent-a", f"/console/t/{desk.ticket.reference}/")
    wait_live(page)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.keyboard.press("r")
    page.keyboard.type("Hi! ")
    page.fill("#canned-search", "delay")
    page.locator("#canned-search").press("Enter")  # what people do after typing a shortcut
    expect(page.locator("#id_body")).to_have_value(re.compile(r"^Hi! Hello 张三, your order SC20240601-0042"))
    page.wait_for_timeout(300)
    assert posts == [], "pressing Enter in the canned-reply search sent the reply"
    expect(page.locator("#thread article[data-seq]")).to_have_count(1)


def test_agent_inserts_a_knowledge_base_link_into_the_reply(asgi_server, desk, new_context):
    """The reply box's article picker searches the KB as the agent types and inserts the article's address."""
    from tests.knowledge.conftest import make_article

    article = off_loop(make_article, "Card key invalid or already used", "Check the region first.", language="en")
    page = agent_page(new_context, asgi_server, "agent-a", f"/console/t/{desk.ticket.reference}/")
    page.locator("#kb-search").press_sequentially("card key inva", delay=30)
    expect(page.locator("#kb-list option")).to_have_count(1)
    page.fill("#kb-search", article.title)
    page.locator("#kb-search").dispatch_event("change")
    value = page.locator("#id_body").input_value()
    assert value.startswith(article.title + "\n" + asgi_server.url + "/help/")
    assert article.slug in value
