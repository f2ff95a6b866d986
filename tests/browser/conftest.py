"""Browser tests: Debian's Chromium driven by Playwright (sync API) against a real uvicorn process.

The whole directory is skipped, with the reason, where Chromium or Playwright is missing, so the suite still
passes on a machine without a browser. Nothing here downloads a browser: Playwright uses /usr/bin/chromium.

Playwright's sync API keeps an asyncio loop "running" in the main thread while it is started. Two things follow:
Django's async-safety check must be relaxed (DJANGO_ALLOW_ASYNC_UNSAFE, set only while a module's browser is
up), and code that calls `async_to_sync` (every service that broadcasts an event) must run in another thread:
use `off_loop(...)`, or the broadcast is dropped with a warning.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.integration.conftest import asgi_server  # noqa: F401  (re-exported fixture)

CHROMIUM = Path("/usr/bin/chromium")
HERE = Path(__file__).resolve().parent
SKIP_REASON = ""
try:
    from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    expect = sync_playwright = None
    SKIP_REASON = "Playwright not importable: pip install -r requirements-dev.txt"
if not CHROMIUM.exists():
    SKIP_REASON = "Chromium not installed: apt-get install chromium"


def pytest_collection_modifyitems(config, items):
    """Without a browser every test here is skipped, with the reason (a conftest cannot skip itself when it is
    the one pytest loads first, as with `pytest tests/browser`)."""
    if not SKIP_REASON:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(skip)


PASSWORD = "pw-test-123"  # UserFactory's password
VIEWPORT = {"width": 1366, "height": 768}
SHOTS = Path(tempfile.gettempdir()) / "carddesk-shots"  # /tmp/carddesk-shots; not committed
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
T = TypeVar("T")

if expect is not None:
    expect.set_options(timeout=5_000)


def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run Django code in a fresh thread (own DB connection, no running event loop) and return its result."""
    from django.db import connection

    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn(*args, **kwargs)
        except BaseException as error:  # re-raised in the caller
            box["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=target, name="off-loop")
    thread.start()
    thread.join(timeout=30)
    if thread.is_alive():
        raise TimeoutError(f"{fn!r} did not finish in 30 s")
    if "error" in box:
        raise box["error"]
    return box["result"]


@pytest.fixture(scope="module")
def browser(django_db_setup) -> Iterator[Browser]:
    """One Chromium per test module; the test database exists before Playwright's loop starts."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """Fresh, isolated browser contexts (separate cookies and storage), closed after the test."""
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(viewport=VIEWPORT, locale="en-US", timezone_id="Asia/Shanghai", **options)
        context.set_default_timeout(8_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@dataclass
class Desk:
    """The data every browser test works on: one shop, one queue, two agents, a customer with an order, a ticket."""

    shop: Any
    queue: Any
    agent_a: Any
    agent_b: Any
    customer: Any
    order: Any
    ticket: Any
    canned: Any


def build_desk() -> Desk:
    from tests.factories import QueueFactory, ShopFactory, make_agent, make_customer, make_ticket
    from tickets import services
    from tickets.models import CannedReply, DeliveryStatus, PaymentStatus

    shop = ShopFactory(name="Star Cards", slug="star-cards")
    queue = QueueFactory(name="Payments", slug="payments")
    agent_a = make_agent(queue, username="agent-a")
    agent_b = make_agent(queue, username="agent-b")
    customer = make_customer(shop, name="张三", email="zhangsan@example.com")
    order = services.order_upsert(
        shop=shop,
        order_no="SC20240601-0042",
        actor=None,
        customer=customer,
        product="Steam 充值卡 100 元",
        quantity=2,
        amount="200.00",
        payment_status=PaymentStatus.PAID,
        payment_channel="alipay",
        delivery_status=DeliveryStatus.DELIVERED,
        card_keys=["STEAM-AAAA-BBBB-CCCC", "STEAM-DDDD-EEEE-FFFF"],
    )
    ticket = make_ticket(
        shop=shop,
        queue=queue,
        customer=customer,
        order=order,
        subject="付款成功但没有收到卡密",
        body="我付款了，订单一直显示待发货。",
    )
    canned = CannedReply.objects.create(
        title="Card delayed",
        shortcut="delay",
        body="Hello {customer.name}, your order {order.order_no} is being re-sent now.",
        language="en",
        shop=shop,
    )
    return Desk(shop, queue, agent_a, agent_b, customer, order, ticket, canned)


@pytest.fixture
def desk(transactional_db, asgi_server) -> Desk:  # noqa: F811
    """Committed rows (the ASGI server is another process), built off Playwright's loop so broadcasts work."""
    return off_loop(build_desk)


def login(page: Page, server, username: str, next_path: str = "/console/") -> None:
    """Log in through the real login form."""
    page.goto(f"{server.url}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click(".login button[type=submit]")
    page.wait_for_url(re.compile(re.escape(server.url + next_path.split("?")[0])))


def wait_live(page: Page) -> None:
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


def agent_page(new_context, server, username: str, next_path: str = "/console/") -> Page:
    page = new_context().new_page()
    login(page, server, username, next_path)
    return page
