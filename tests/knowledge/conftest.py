"""A small fixed zh/en corpus built through the services, and the knowledge API mounted for every test."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from helpdesk.models import Shop
from knowledge import services
from knowledge.models import Article, ArticleStatus, KbCategory


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch):
    # Suggestions are cached in Redis across tests (the database is not): a version per test keeps them apart;
    # throttle counters are per address, so the test client's address starts with a clean slate.
    monkeypatch.setattr("knowledge.api.views.CACHE_VERSION", uuid.uuid4().hex)
    cache.delete("throttle_kb_suggest_127.0.0.1")
    yield
    cache.delete("throttle_kb_suggest_127.0.0.1")


def make_category(slug: str = "keys", name: str = "卡密问题", name_en: str = "Card keys", parent=None) -> KbCategory:
    existing = KbCategory.objects.filter(slug=slug).first()
    return existing or services.category_save(actor=None, name=name, name_en=name_en, slug=slug, parent=parent)


def make_article(
    title: str,
    body: str,
    *,
    language: str = "zh-hans",
    category: KbCategory | None = None,
    status: str = ArticleStatus.PUBLISHED,
    summary: str = "",
    shop: Shop | None = None,
    publish_at=None,
    translation_of: Article | None = None,
    slug: str = "",
) -> Article:
    return services.article_save(
        actor=None,
        category=category or make_category(),
        language=language,
        title=title,
        body=body,
        summary=summary,
        status=status,
        shop=shop,
        publish_at=publish_at,
        translation_of=translation_of,
        slug=slug,
    )


@dataclass
class Corpus:
    keys: KbCategory
    money: KbCategory
    invalid_zh: Article
    redeem_zh: Article
    refund_policy_zh: Article
    refund_time_zh: Article
    recharge_zh: Article
    unpaid_zh: Article
    invalid_en: Article
    redeem_en: Article
    refund_policy_en: Article
    refund_time_en: Article
    recharge_en: Article
    unpaid_en: Article


@pytest.fixture
def corpus(db) -> Corpus:
    keys = make_category("keys", "卡密问题", "Card keys")
    money = make_category("money", "支付与退款", "Payments & refunds")
    recharge = make_category("recharge", "充值", "Top-ups", parent=money)
    a = {}
    a["invalid_zh"] = make_article(
        "卡密无效或提示已被使用怎么办",
        "兑换时提示**卡密无效**或已被使用，请先检查输入是否有误、平台和地区是否正确。\n\n"
        "确认卡密无效后，请联系客服更换或退款。",
        category=keys,
        slug="invalid-card-key",
    )
    a["redeem_zh"] = make_article(
        "如何兑换卡密",
        "在官方页面输入卡密即可兑换。输错会提示无效，请复制粘贴。Steam 卡密在客户端兑换。",
        category=keys,
        slug="redeem",
    )
    a["refund_policy_zh"] = make_article(
        "退款政策：哪些情况可以退款",
        "卡密未发货、卡密无效可以申请退款。已兑换的卡密不支持退款。退款会原路退回。",
        category=money,
        slug="refund-policy",
    )
    a["refund_time_zh"] = make_article(
        "退款多久到账",
        "退款批准后原路退回：支付宝即时到账，银行卡一到三个工作日。",
        category=money,
        slug="refund-time",
    )
    a["recharge_zh"] = make_article(
        "充值失败怎么办",
        "话费或游戏直充显示充值失败时，系统会自动退款。账号填写错误也会导致充值失败。",
        category=recharge,
        slug="recharge-failed",
    )
    a["unpaid_zh"] = make_article(
        "付款成功但订单未到账",
        "付款后订单仍显示未支付，请不要重复付款，几分钟后会自动补单发货。",
        category=money,
        slug="paid-not-received",
    )
    a["invalid_en"] = make_article(
        "Card key invalid or already used",
        "If the redeem page says your card key is invalid or already used, check the characters you typed "
        "and the region of your account, then contact us for a replacement or a refund.",
        language="en",
        category=keys,
        translation_of=a["invalid_zh"],
        slug="invalid-card-key",
    )
    a["redeem_en"] = make_article(
        "How to redeem a card key",
        "Enter the key on the official page. A typo makes the page say invalid, so copy and paste it.",
        language="en",
        category=keys,
        translation_of=a["redeem_zh"],
        slug="redeem",
    )
    a["refund_policy_en"] = make_article(
        "Refund policy: when you can get a refund",
        "A card key that was not delivered or is invalid can be refunded. Redeemed keys cannot be refunded. "
        "Refunds go back to the original payment method.",
        language="en",
        category=money,
        translation_of=a["refund_policy_zh"],
        slug="refund-policy",
    )
    a["refund_time_en"] = make_article(
        "How long does a refund take",
        "An approved refund goes back the way you paid: Alipay at once, bank cards in one to three business days.",
        language="en",
        category=money,
        translation_of=a["refund_time_zh"],
        slug="refund-time",
    )
    a["recharge_en"] = make_article(
        "Recharge failed: what to do",
        "When a phone or game top-up says recharge failed, we refund it automatically. A wrong account number "
        "also makes the recharge fail... the order then says recharge failed.",
        language="en",
        category=recharge,
        translation_of=a["recharge_zh"],
        slug="recharge-failed",
    )
    a["unpaid_en"] = make_article(
        "Paid but the order shows unpaid",
        "If you paid and the order still shows unpaid, do not pay again: the order completes within minutes.",
        language="en",
        category=money,
        translation_of=a["unpaid_zh"],
        slug="paid-not-received",
    )
    return Corpus(keys=keys, money=money, **a)


def hidden_article_variants(shop: Shop, other_shop: Shop) -> dict[str, Article]:
    """One article per way of being hidden from `shop`'s help centre, all about the word "zebrakey"."""
    now = timezone.now()
    body = "The zebrakey article body."
    return {
        "draft": make_article("zebrakey draft", body, language="en", status=ArticleStatus.DRAFT),
        "scheduled": make_article("zebrakey scheduled", body, language="en", publish_at=now + timedelta(hours=2)),
        "archived": make_article("zebrakey archived", body, language="en", status=ArticleStatus.ARCHIVED),
        "other_shop": make_article("zebrakey other shop", body, language="en", shop=other_shop),
    }
