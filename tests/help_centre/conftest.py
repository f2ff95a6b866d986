"""Help-centre fixtures: a shop with an order carrying card keys, categories, and a private cache per test
(the rate limits and double-submit guard live in Redis; a per-test key prefix keeps tests independent)."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import CategoryFactory, make_customer
from tickets import services
from tickets.models import DeliveryStatus, PaymentStatus

CARD_KEYS = ["STEAM-AAAA-BBBB-CCCC", "STEAM-DDDD-EEEE-FFFF"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _private_cache(settings):
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"carddesk-test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches
    settings.PUBLIC_BASE_URL = "https://help.example.com"
    yield


@pytest.fixture
def buyer(shop):
    return make_customer(shop, external_id="", name="张三", email="zhangsan@example.com", language="zh-hans")


@pytest.fixture
def order(shop, buyer):
    return services.order_upsert(
        shop=shop,
        order_no="SC20240601-0042",
        actor=None,
        customer=buyer,
        product="Steam 充值卡 100 元",
        quantity=2,
        amount="200.00",
        payment_status=PaymentStatus.PAID,
        delivery_status=DeliveryStatus.DELIVERED,
        card_keys=CARD_KEYS,
    )


@pytest.fixture
def category(queue):
    return CategoryFactory(name="卡密问题", name_en="Card keys", slug="card-keys", default_queue=queue)


def png(name: str = "screen.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


@pytest.fixture
def contact_data(shop):
    def make(**overrides):
        data = {
            "subject": "付款成功但没有收到卡密",
            "description": "我付款了，订单一直显示待发货。",
            "email": "zhangsan@example.com",
            "name": "张三",
            "order_no": "",
            "category": "",
            "website": "",
            "submission_id": uuid.uuid4().hex,
            "kb_log_ids": "",
        }
        data.update(overrides)
        return data

    return make
