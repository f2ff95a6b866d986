"""SLA in the console, in a real browser and in Chinese: countdown badges, the at-risk view, the ticket's SLA panel,
live countdowns and the supervisors' alert toasts (coalesced). Screenshots go to /tmp/carddesk-shots/sla-*.png.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from tests.browser.conftest import SHOTS, expect, login, off_loop, wait_live

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def sla_desk(desk) -> SimpleNamespace:
    """A policy, and tickets whose clocks are in every state: overdue, at risk, fine, paused, none."""
    from datetime import timedelta

    from django.utils import timezone

    from helpdesk.roles import Role
    from tests.factories import CategoryFactory, make_customer, make_ticket, make_user
    from tests.tickets.views.support import clock, set_status
    from tickets import services
    from tickets.models import SlaPolicy, Ticket
    from tickets.services.sla import sla_cache_clear, sla_sweep

    sla_cache_clear()
    SlaPolicy.objects.create(
        name="标准时效（7×24）",
        priorities=["normal", "high", "urgent"],
        first_response_minutes=60,
        next_response_minutes=30,
        resolution_minutes=480,
        warn_percentages=[50, 80],
    )
    sla_cache_clear()
    now = timezone.now()
    CategoryFactory(name="已付款未到账", slug="paid-not-received")

    def at(minutes_ago: int, subject: str, priority: str = "normal", n: int = 0) -> Ticket:
        customer = make_customer(desk.shop, external_id=f"s{n}", name=f"顾客{n}", email=f"s{n}@example.com")
        with clock(now - timedelta(minutes=minutes_ago)):
            return make_ticket(shop=desk.shop, queue=desk.queue, customer=customer, subject=subject, priority=priority)

    overdue = at(130, "充值失败，余额没有到账", "high", 1)
    waiting = at(100, "卡密显示已被使用，等待客户提供截图", "normal", 2)
    at(10, "How do I redeem a Google Play code from another region?", "normal", 3)
    at(300, "Refund request for order SC20240530-0007 (duplicate payment via WeChat Pay)", "low", 4)
    main = at(50, "付款成功但没有收到卡密，已经等了很久", "urgent", 5)
    with clock(now - timedelta(minutes=40)):
        services.agent_reply_post(ticket=main, actor=desk.agent_a, body="您好，我们正在核实订单，请稍等。")
    with clock(now - timedelta(minutes=20)):
        services.customer_message_post(ticket=main, actor=None, body="还没到账！再不处理我就投诉到12315！")
    with clock(now - timedelta(minutes=30)):
        sla_sweep(now=now - timedelta(minutes=30))
        set_status(waiting, "pending")
    sla_sweep(now=now)
    Ticket.objects.filter(pk=main.pk).update(intent="paid-not-received", intent_confidence=0.87, sentiment=-0.72)
    supervisor = make_user(Role.SUPERVISOR, username="boss")
    return SimpleNamespace(overdue=overdue, waiting=waiting, main=main, supervisor=supervisor)


def shoot(page, name: str, *, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=full_page)


def no_horizontal_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_sla_badges_at_risk_view_panel_and_toasts_in_chinese(asgi_server, desk, new_context):
    from helpdesk import realtime

    sla = off_loop(sla_desk, desk)
    page = new_context().new_page()
    login(page, asgi_server, "boss")
    with page.expect_navigation():
        page.select_option("#language", "zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    # The at-risk view: overdue first, then due soon; the breached-then-pending one is not at risk (paused).
    page.goto(asgi_server.url + "/console/?view=at_risk")
    wait_live(page)
    expect(page.locator("#list-title")).to_have_text("风险工单")
    rows = page.locator("#rows tbody tr[data-ticket]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-ticket", str(sla.overdue.pk))
    expect(rows.nth(0).locator(".sla")).to_have_text(re.compile(r"^超时 1 小时 1[01] 分钟$"))
    expect(rows.nth(0).locator(".sla")).to_have_class(re.compile(r"\bsla-breached\b"))
    expect(rows.nth(1).locator(".sla")).to_have_class(re.compile(r"\bsla-at_risk\b"))
    expect(page.locator('[data-view-count="at_risk"]')).to_have_text("2")
    shoot(page, "sla-inbox-at-risk-zh-hans")
    assert no_horizontal_overflow(page) <= 0

    page.goto(asgi_server.url + f"/console/?view=queue-{desk.queue.pk}")
    wait_live(page)
    shoot(page, "sla-inbox-queue-zh-hans")
    assert no_horizontal_overflow(page) <= 0

    # The countdown ticks in the browser: move a due time and let the page's own ticker re-read it.
    badge = page.locator("#rows .sla[data-due]").first
    badge.evaluate("el => { el.dataset.due = new Date(Date.now() + 5 * 60e3 - 1e3).toISOString(); }")
    page.evaluate("window.CARDDESK.tickClocks()")
    expect(badge).to_have_text("5 分钟")
    expect(badge).to_have_class(re.compile(r"\bsla-at_risk\b"))
    badge.evaluate("el => { el.dataset.due = new Date(Date.now() - 2 * 3600e3 - 30e3).toISOString(); }")
    page.evaluate("window.CARDDESK.tickClocks()")
    expect(badge).to_have_text("超时 2 小时 1 分钟")
    expect(badge).to_have_class(re.compile(r"\bsla-breached\b"))

    # The ticket page: each running clock, the policy, intent and sentiment, the SLA log.
    page.goto(asgi_server.url + f"/console/t/{sla.main.reference}/")
    wait_live(page)
    panel = page.locator("#sla-panel")
    expect(panel).to_contain_text("标准时效（7×24）")
    expect(panel).to_contain_text("下次响应")
    expect(panel).to_contain_text("分类器：已付款未到账 (87%)")
    expect(panel.locator(".sentiment")).to_have_text("非常负面")
    expect(panel.locator(".sla-events li").first).to_contain_text("下次响应")
    shoot(page, "sla-ticket-zh-hans", full_page=True)
    assert no_horizontal_overflow(page) <= 0

    # A burst of alerts: one toast per ticket (the duplicate is folded in), three at most, "+N more" for the rest.
    def burst() -> None:
        def event(kind: str, pk: int, **extra) -> dict:
            return {"type": kind, "ticket": pk, "reference": f"T-{pk:06d}", **extra}

        events = [
            event("sla.breached", sla.overdue.pk, metric="first_response", threshold="", late_seconds=4200),
            event("sla.warning", sla.overdue.pk, metric="first_response", threshold="p80", late_seconds=0),
            event("ticket.sentiment_alert", sla.main.pk, score=-0.72),
            event("ticket.rule_alert", sla.waiting.pk, target="supervisors"),
            event("sla.warning", 990001, metric="resolution", threshold="m10", late_seconds=0),
            event("sla.breached", 990002, metric="next_response", threshold="", late_seconds=30),
        ]
        for e in events:
            realtime.broadcast([realtime.SUPERVISORS_GROUP], e)

    off_loop(burst)
    toasts = page.locator("#toasts .toast[data-ticket]")
    expect(toasts).to_have_count(3)
    expect(toasts.nth(0)).to_contain_text("SLA 已超时")
    expect(toasts.nth(0)).to_contain_text(sla.overdue.reference)
    expect(toasts.nth(0).locator("a")).to_have_attribute("href", f"/console/t/{sla.overdue.reference}/")
    expect(toasts.nth(1)).to_contain_text("客户情绪非常负面")
    expect(page.locator("#toasts .toast-more a")).to_have_text("另有 2 条提醒")
    expect(page.locator("#toasts .toast-more a")).to_have_attribute("href", "/console/?view=at_risk")
    page.wait_for_timeout(400)  # the toasts' fade-in
    shoot(page, "sla-toasts-zh-hans")
    # Non-blocking: the page under the toasts still works, and a toast can be dismissed.
    toasts.nth(0).locator("button.close").click()
    expect(toasts).to_have_count(2)
    page.locator("#id_body").fill("已为您补发卡密。")
