"""Screenshots of the console at 1366x768, in English and in Chinese, for a person to look at.

They go to /tmp/carddesk-shots/ (not committed). The assertions are only about things a screenshot would show
broken: the page switched language, nothing is wider than the window, the thread and panel are side by side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import SHOTS, agent_page, expect, off_loop, wait_live

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def busier_desk(desk) -> None:
    """A few more tickets and a longer conversation, so the screenshots look like a working day."""
    from tests.factories import make_customer, make_ticket
    from tickets import services

    ticket = desk.ticket
    services.agent_reply_post(ticket=ticket, actor=desk.agent_a, body="您好，我们正在核实订单，请稍等两分钟。")
    services.internal_note_post(ticket=ticket, actor=desk.agent_a, body="Supplier API timed out at 10:02; retrying.")
    services.customer_message_post(
        ticket=ticket, actor=None, body="好的，谢谢。顺便问一下，第二张卡什么时候能到？我已经等了很久了。" * 2
    )
    subjects = [
        ("充值失败，余额没有到账", "high"),
        ("How do I redeem a Google Play code from another region?", "normal"),
        ("卡密显示已被使用", "urgent"),
        ("Refund request for order SC20240530-0007 (duplicate payment via WeChat Pay)", "low"),
    ]
    for n, (subject, priority) in enumerate(subjects):
        customer = make_customer(desk.shop, external_id=f"c{n}", name=f"顾客{n}", email=f"c{n}@example.com")
        make_ticket(shop=desk.shop, queue=desk.queue, customer=customer, subject=subject, priority=priority)


def no_horizontal_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def shoot(page: Page, name: str, *, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png")
    if full_page:
        page.screenshot(path=SHOTS / f"{name}-full.png", full_page=True)


def test_inbox_and_ticket_screenshots_in_english_and_chinese(asgi_server, desk, new_context):
    off_loop(busier_desk, desk)
    ticket_path = f"/console/t/{desk.ticket.reference}/"
    page = agent_page(new_context, asgi_server, "agent-a", "/console/?view=unassigned")
    SHOTS.mkdir(parents=True, exist_ok=True)

    for lang in ("en", "zh-hans"):
        if lang != "en":
            # The language <select> in the top bar posts to /i18n/setlang/ and comes back to the same page.
            with page.expect_navigation():
                page.select_option("#language", lang)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        page.goto(asgi_server.url + "/console/?view=unassigned")
        wait_live(page)
        expect(page.locator("#rows tbody tr[data-ticket]")).to_have_count(5)
        shoot(page, f"inbox-{lang}")
        inbox_overflow = no_horizontal_overflow(page)

        page.goto(asgi_server.url + ticket_path)
        wait_live(page)
        expect(page.locator("#thread article[data-seq]")).to_have_count(4)
        shoot(page, f"ticket-{lang}", full_page=True)
        ticket_overflow = no_horizontal_overflow(page)
        side_by_side = page.evaluate(
            "(() => { const c = document.querySelector('.conversation').getBoundingClientRect();"
            " const p = document.querySelector('.panel').getBoundingClientRect();"
            " return p.left >= c.right - 1 && p.top < c.bottom; })()"
        )
        page.keyboard.press("?")
        expect(page.locator("#shortcuts")).to_be_visible()
        shoot(page, f"shortcuts-{lang}")
        page.keyboard.press("Escape")

        assert inbox_overflow <= 0, f"inbox is {inbox_overflow}px wider than a 1366px window ({lang})"
        assert ticket_overflow <= 0, f"ticket page is {ticket_overflow}px wider than a 1366px window ({lang})"
        assert side_by_side, f"thread and side panel are not side by side at 1366px ({lang})"

    login = new_context().new_page()
    login.goto(asgi_server.url + "/accounts/login/")
    shoot(login, "login-en")
