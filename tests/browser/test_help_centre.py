"""The customer's side in a real browser: submit a request (with article suggestions), follow the tracking
link, reply — and the form still works when the suggestion service is missing.

The knowledge-base endpoints are stubbed with Playwright routes, so these tests pin this page's side of the
contract (debounced query, rendering, outcome reports) whatever the knowledge app answers.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.browser.conftest import off_loop

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SUGGESTIONS = {
    "results": [
        {"id": 7, "title": "Card key says 'already used'", "snippet": "What to do when a key is refused.",
         "url": "/help/articles/7/"},
        {"id": 9, "title": "<img src=x onerror=alert(1)>", "snippet": "escaped, never HTML",
         "url": "/help/articles/9/"},
    ],
    "log_id": 41,
    "log_token": None,
}  # fmt: skip


RECORD_BEACONS = """
(() => {
  const send = navigator.sendBeacon.bind(navigator);
  navigator.sendBeacon = (url, data) => {
    const list = JSON.parse(localStorage.getItem("beacons") || "[]");
    list.push({ url: String(url), body: data instanceof URLSearchParams ? data.toString() : String(data) });
    localStorage.setItem("beacons", JSON.stringify(list));
    return send(url, data);
  };
})();
"""


def stub_knowledge(target: Page | BrowserContext, *, suggest_status: int = 200) -> tuple[list[str], list[dict]]:
    """Answer the suggest API and capture outcome reports; returns (suggest queries, outcome payloads).

    Route on the browser context to catch the report a page sends while it unloads (pagehide)."""
    queries: list[str] = []
    outcomes: list[dict] = []

    def suggest(route: Route) -> None:
        queries.append(route.request.url)
        if suggest_status != 200:
            route.fulfill(status=suggest_status, body="")
        else:
            route.fulfill(status=200, content_type="application/json", body=json.dumps(SUGGESTIONS))

    def outcome(route: Route) -> None:
        raw = route.request.post_data or ""
        if raw.startswith("{"):
            body = json.loads(raw)
        else:  # the unload beacon: form-encoded, CSRF token in the body
            form = parse_qs(raw)
            body = {key: values[0] for key, values in form.items()}
        outcomes.append({"body": body, "headers": route.request.headers})
        route.fulfill(status=200, content_type="application/json", body='{"updated": 1, "ignored": 0}')

    target.route(re.compile(r".*/api/v1/kb/suggest.*"), suggest)
    target.route(re.compile(r".*/help/search/outcome/?$"), outcome)
    target.route(re.compile(r".*/help/articles/.*"), lambda r: r.fulfill(status=200, body="<h1>article</h1>"))
    return queries, outcomes


@pytest.fixture(autouse=True)
def _fresh_limits():
    """The server process shares the test settings' cache (Redis): forget earlier runs' submissions from here."""
    from django.core.cache import cache

    from tickets.views.help_centre import _limit_key

    keys = [_limit_key("ip", "127.0.0.1"), _limit_key("link_ip", "127.0.0.1")]
    keys += [_limit_key("email", e) for e in ("zhangsan@example.com", "refund@example.com")]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


def wait_until(page: Page, predicate, timeout_ms: int = 5000) -> None:
    waited = 0
    while not predicate():
        if waited >= timeout_ms:
            raise AssertionError("timed out waiting for the outcome report")
        page.wait_for_timeout(50)
        waited += 50


def test_submit_track_and_reply(asgi_server, desk, new_context):
    server = asgi_server
    page = new_context().new_page()
    queries, outcomes = stub_knowledge(page)
    page.goto(f"{server.url}/help/contact/?shop=star-cards")
    expect(page.locator("h1")).to_have_text("Contact us")

    # Typing asks for suggestions once the customer pauses (debounced), and announces them politely.
    page.fill("#id_subject", "Card key already used")
    page.locator("#id_description").press_sequentially("The key STEAM-AAAA-BBBB-CCCC is refused", delay=20)
    suggestions = page.locator("#suggestions")
    expect(suggestions).to_be_visible()
    expect(page.locator("#suggestions-status")).to_have_text("2 articles may answer your question.")
    expect(suggestions.locator("a").first).to_have_text("Card key says 'already used'")
    expect(suggestions.locator("a").nth(1)).to_have_text("<img src=x onerror=alert(1)>")  # text, not markup
    assert len(queries) <= 3, queries  # ~40 keystrokes, a handful of requests
    assert "shop=star-cards" in queries[-1] and "lang=en" in queries[-1]

    # Submitting without an e-mail: the error is named, focus goes to the field, the text stays.
    page.click("#contact-submit")
    expect(page.locator("#error-summary")).to_contain_text("Your e-mail: Please enter your e-mail address.")
    expect(page.locator("#id_email")).to_be_focused()
    expect(page.locator("#id_email")).to_have_attribute("aria-describedby", re.compile("id_email_error"))
    expect(page.locator("#id_subject")).to_have_value("Card key already used")
    expect(page.locator("#id_description")).to_have_value("The key STEAM-AAAA-BBBB-CCCC is refused")

    page.fill("#id_email", "zhangsan@example.com")
    page.fill("#id_order_no", desk.order.order_no)
    with page.expect_navigation():
        page.click("#contact-submit")
    expect(page.locator("h1")).to_have_text("Thank you — we received your request")
    reference = page.locator("#reference").inner_text()
    assert re.fullmatch(r"T-\d{6,}", reference)
    link = page.locator("#tracking-link").input_value()
    assert re.fullmatch(rf"{re.escape(server.url)}/help/t/[A-Za-z0-9_-]{{40,}}/", link)
    wait_until(page, lambda: any(o["body"].get("outcome") == "ticket" for o in outcomes))
    ticket_outcomes = [o for o in outcomes if o["body"].get("outcome") == "ticket"]
    assert ticket_outcomes and ticket_outcomes[0]["body"]["log_ids"] == [41]
    assert ticket_outcomes[0]["headers"].get("x-csrftoken")

    # The tracking link: status, masked order, the conversation; then a reply.
    with page.expect_navigation():
        page.click("#open-tracking")
    expect(page.locator("#reference")).to_have_text(reference)
    expect(page.locator("#ticket-status")).to_have_text("New")
    expect(page.locator("#order-keys")).to_contain_text("STEAM-****-****-CCCC")
    assert "STEAM-AAAA-BBBB-CCCC" not in page.content()
    expect(page.locator("#thread li.msg")).to_have_count(1)
    page.fill("#id_body", "Here is more detail: bought at 10:02.")
    with page.expect_navigation():
        page.click("#reply-form button[type=submit]")
    expect(page.locator(".hc-flash")).to_contain_text("Your reply was sent.")
    expect(page.locator("#thread li.msg")).to_have_count(2)
    expect(page.locator("#thread li.msg").last).to_contain_text("bought at 10:02")

    def stored():
        from helpdesk.models import OutboxEmail
        from tickets.models import Message, Ticket

        ticket = Ticket.objects.select_related("order").get(reference=reference)
        return (
            ticket.order.order_no,
            list(Message.objects.filter(ticket=ticket).order_by("seq").values_list("author_kind", "channel")),
            list(OutboxEmail.objects.filter(key=f"ticket-received:{ticket.pk}").values_list("status", flat=True)),
        )

    order_no, thread, emails = off_loop(stored)
    assert order_no == desk.order.order_no
    assert thread == [("customer", "web"), ("customer", "web")]
    assert emails == ["sent"]


def test_form_works_without_the_suggestion_service_and_reports_deflection(asgi_server, desk, new_context):
    server = asgi_server
    context = new_context()

    # 1. The suggest endpoint is missing: nothing shows, nothing breaks, the request is filed.
    page = context.new_page()
    queries, _outcomes = stub_knowledge(page, suggest_status=404)
    page.goto(f"{server.url}/help/contact/?shop=star-cards")
    page.fill("#id_subject", "Refund please")
    page.locator("#id_description").press_sequentially("Charged twice for one order", delay=10)
    page.wait_for_timeout(700)
    expect(page.locator("#suggestions")).to_be_hidden()
    assert len(queries) == 1  # after a 404 the page stops asking
    page.fill("#id_email", "refund@example.com")
    with page.expect_navigation():
        page.click("#contact-submit")
    expect(page.locator("#reference")).to_have_text(re.compile(r"T-\d+"))

    # 2. With suggestions: opening one and leaving without sending reports "deflected" for that article.
    context = new_context()
    _queries, outcomes = stub_knowledge(context)
    # Playwright does not observe requests a page sends while it unloads, so record the beacon calls
    # (in localStorage, which survives the navigation) and let them go out as usual.
    context.add_init_script(RECORD_BEACONS)
    page = context.new_page()
    page.goto(f"{server.url}/help/contact/?shop=star-cards")
    page.fill("#id_subject", "Card key already used")
    page.locator("#id_subject").press("End")
    page.locator("#id_subject").press_sequentially(" again", delay=10)
    expect(page.locator("#suggestions a").first).to_be_visible()
    with context.expect_page() as article_tab:
        page.locator("#suggestions a").first.click()
    article_tab.value.close()
    assert not page.evaluate("localStorage.getItem('beacons')")
    page.goto(f"{server.url}/help/t/")  # leaves the form: pagehide
    beacons = json.loads(page.evaluate("localStorage.getItem('beacons')") or "[]")
    assert len(beacons) == 1 and beacons[0]["url"].endswith("/help/search/outcome")
    body = parse_qs(beacons[0]["body"])
    assert {k: v[0] for k, v in body.items() if k != "csrfmiddlewaretoken"} == {
        "log_ids": "41",
        "outcome": "deflected",
        "article": "7",
    }
    assert body["csrfmiddlewaretoken"][0]  # a beacon cannot send headers: the token rides in the body
    clicks = [o["body"] for o in outcomes if o["body"].get("outcome") == "click"]
    assert clicks == [{"log_ids": [41], "outcome": "click", "article": 7}]
