"""The demo knowledge base's structure: categories (one level of nesting) and which article goes where.

Texts live in `content_zh` and `content_en`, keyed like ARTICLES; each key is one translation group.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CategorySpec:
    slug: str
    name: str
    name_en: str
    position: int
    parent: str = ""
    description: str = ""
    description_en: str = ""


# Parents first: children refer to them by slug.
CATEGORIES = [
    CategorySpec(
        "payment",
        "支付与扣款",
        "Payments & charges",
        10,
        "",
        "付款后没到账、重复扣款、支付失败",
        "Paid but nothing arrived, charged twice, failed payments",
    ),
    CategorySpec("payment-not-received", "付款未到账", "Paid but not received", 11, "payment"),
    CategorySpec("payment-double-charge", "重复扣款", "Charged twice", 12, "payment"),
    CategorySpec(
        "delivery",
        "发货与卡密",
        "Delivery & card keys",
        20,
        "",
        "没收到卡密、卡密无效或已被使用",
        "Card key missing, invalid or already used",
    ),
    CategorySpec("delivery-missing", "卡密未发货", "Card key not delivered", 21, "delivery"),
    CategorySpec("card-key-problems", "卡密无效/已被使用", "Invalid or used card keys", 22, "delivery"),
    CategorySpec(
        "redeem",
        "充值与兑换",
        "Top-ups & redeeming",
        30,
        "",
        "Steam、Apple、Google Play、王者荣耀点券的兑换与充值失败",
        "Redeeming Steam, Apple, Google Play, game top-ups; failed recharges",
    ),
    CategorySpec("redeem-guides", "兑换教程", "How to redeem", 31, "redeem"),
    CategorySpec("recharge-failed", "充值失败", "Recharge problems", 32, "redeem"),
    CategorySpec(
        "refunds",
        "退款与售后",
        "Refunds & after-sales",
        40,
        "",
        "退款条件、退款时间、联系客服",
        "Refund conditions, timelines, contacting support",
    ),
    CategorySpec(
        "accounts",
        "账号与安全",
        "Account & security",
        50,
        "",
        "保护账号、账号被盗、防范诈骗",
        "Protecting your account, stolen accounts, scams",
    ),
    CategorySpec(
        "merchants",
        "商户与寄售",
        "Merchants & consignment",
        60,
        "",
        "商户结算、寄售流程、资金冻结",
        "Merchant settlement, consignment, frozen funds",
    ),
]


@dataclass(frozen=True)
class ArticleSpec:
    key: str  # slug of both translations and the seed of their translation group
    category: str
    position: int
    related: tuple[str, ...] = ()


ARTICLES = [
    ArticleSpec(
        "paid-not-received", "payment-not-received", 10, ("card-key-not-delivered", "find-my-order", "payment-methods")
    ),
    ArticleSpec("payment-methods", "payment-not-received", 20, ("paid-not-received", "double-charge")),
    ArticleSpec("double-charge", "payment-double-charge", 10, ("refund-timeline", "paid-not-received")),
    ArticleSpec("card-key-not-delivered", "delivery-missing", 10, ("paid-not-received", "find-my-order")),
    ArticleSpec("find-my-order", "delivery-missing", 20, ("card-key-not-delivered", "account-security")),
    ArticleSpec(
        "invalid-card-key", "card-key-problems", 10, ("wrong-region-denomination", "redeem-steam", "refund-policy")
    ),
    ArticleSpec("wrong-region-denomination", "card-key-problems", 20, ("invalid-card-key", "redeem-apple")),
    ArticleSpec("redeem-steam", "redeem-guides", 10, ("invalid-card-key", "recharge-failed")),
    ArticleSpec("redeem-apple", "redeem-guides", 20, ("wrong-region-denomination", "invalid-card-key")),
    ArticleSpec("redeem-google-play", "redeem-guides", 30, ("wrong-region-denomination", "invalid-card-key")),
    ArticleSpec("honor-of-kings-vouchers", "redeem-guides", 40, ("recharge-failed", "direct-top-up-pending")),
    ArticleSpec(
        "recharge-failed", "recharge-failed", 10, ("direct-top-up-pending", "honor-of-kings-vouchers", "refund-policy")
    ),
    ArticleSpec("direct-top-up-pending", "recharge-failed", 20, ("recharge-failed", "refund-timeline")),
    ArticleSpec("refund-policy", "refunds", 10, ("refund-timeline", "invalid-card-key")),
    ArticleSpec("refund-timeline", "refunds", 20, ("refund-policy", "double-charge")),
    ArticleSpec("contact-checklist", "refunds", 30, ("find-my-order", "refund-policy")),
    ArticleSpec("account-security", "accounts", 10, ("account-stolen", "scam-warning")),
    ArticleSpec("account-stolen", "accounts", 20, ("account-security", "scam-warning")),
    ArticleSpec("scam-warning", "accounts", 30, ("account-security", "invalid-card-key")),
    ArticleSpec("merchant-settlement", "merchants", 10, ("consignment-how-it-works", "consignment-frozen-funds")),
    ArticleSpec("consignment-how-it-works", "merchants", 20, ("merchant-settlement", "consignment-frozen-funds")),
    ArticleSpec("consignment-frozen-funds", "merchants", 30, ("consignment-how-it-works", "merchant-settlement")),
]
