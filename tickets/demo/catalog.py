"""The demo desk's fixed cast: shops, queues, categories, staff, customers' names and the product catalogue.

Plain data only; `tickets.demo.setup` and `tickets.demo.dataset` turn it into rows through services.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# Natural-key prefix of everything the demo creates in bulk (customers' external ids), so a later run can
# tell demo rows from real ones.
DEMO_PREFIX = "demo-"

CUSTOMER_COUNT = 50
VIP_COUNT = 8
ENGLISH_SHARE = 0.3
ORDER_COUNT = 200
TICKET_COUNT = 300


@dataclass(frozen=True)
class ShopSpec:
    slug: str
    name: str
    order_prefix: str
    default_language: str
    customers: int


SHOPS = [
    # 星辰卡铺: an auto card-delivery store (发卡网); 月光发卡: a consignment platform (寄售) with seller payouts.
    ShopSpec("star-cards", "星辰卡铺 Star Cards", "XC", "zh-hans", 30),
    ShopSpec("moon-codes", "月光发卡 Moon Codes", "YG", "zh-hans", 20),
]


@dataclass(frozen=True)
class QueueSpec:
    slug: str
    name: str
    skills: tuple[str, ...]
    is_vip: bool = False
    overflow_to: str = ""
    overflow_threshold: int = 0


QUEUES = [
    QueueSpec("payments", "支付问题 Payments", ("payment", "refund")),
    QueueSpec(
        "delivery",
        "发货/卡密 Delivery & card keys",
        ("delivery", "card_key"),
        overflow_to="payments",
        overflow_threshold=30,
    ),
    QueueSpec("accounts", "账号安全 Account security", ("account",)),
    QueueSpec("merchants", "商户/寄售结算 Merchant settlement", ("settlement", "merchant")),
    QueueSpec("vip", "VIP 专席 VIP desk", ("vip", "payment", "delivery"), is_vip=True),
]


@dataclass(frozen=True)
class CategorySpec:
    slug: str
    name: str
    name_en: str
    queue: str
    parent: str = ""


# Parents first: children refer to them by slug.
CATEGORIES = [
    CategorySpec("payment", "支付问题", "Payment", "payments"),
    CategorySpec("payment-not-received", "已付款未到账", "Paid but not received", "payments", "payment"),
    CategorySpec("payment-double-charge", "重复扣款", "Charged twice", "payments", "payment"),
    CategorySpec("delivery", "发货问题", "Delivery", "delivery"),
    CategorySpec("delivery-card-key-missing", "卡密未发放", "Card key not delivered", "delivery", "delivery"),
    CategorySpec("product", "商品问题", "Product", "delivery"),
    CategorySpec("product-invalid-key", "卡密无效/已被使用", "Invalid or used card key", "delivery", "product"),
    CategorySpec("product-out-of-stock", "缺货/补货", "Out of stock", "delivery", "product"),
    CategorySpec("refund", "退款申请", "Refund", "payments"),
    CategorySpec("account-security", "账号安全", "Account security", "accounts"),
    CategorySpec("merchant-settlement", "商户/寄售结算", "Merchant / consignment settlement", "merchants"),
    CategorySpec("how-to", "使用咨询", "How-to", "delivery"),
    CategorySpec("how-to-redeem", "兑换方法", "How to redeem", "delivery", "how-to"),
]

# How many of the 300 tickets fall in each leaf category (sums to TICKET_COUNT).
TICKET_MIX = {
    "payment-not-received": 50,
    "payment-double-charge": 25,
    "delivery-card-key-missing": 45,
    "product-invalid-key": 50,
    "product-out-of-stock": 20,
    "refund": 35,
    "account-security": 25,
    "merchant-settlement": 20,
    "how-to-redeem": 30,
}


@dataclass(frozen=True)
class StaffSpec:
    username: str
    first_name: str
    last_name: str
    role: str  # a helpdesk.roles.Role value
    display_name: str = ""
    queues: tuple[str, ...] = ()
    max_chats: int = 3
    presence: str = "offline"
    language: str = "zh-hans"
    shop: str = ""  # merchants: the shop they own


STAFF = [
    StaffSpec("supervisor", "Lin", "Zhou", "supervisor"),
    StaffSpec("agent1", "Ya", "Chen", "agent", "小雅 Ya", ("payments", "delivery"), 4, "online"),
    StaffSpec("agent2", "Jie", "Wang", "agent", "阿杰 Jay", ("delivery", "accounts"), 3, "online"),
    StaffSpec("agent3", "Lily", "Zhao", "agent", "莉莉 Lily", ("accounts", "merchants"), 3, "away", "en"),
    StaffSpec("agent4", "Max", "Liu", "agent", "Max (VIP)", ("vip", "payments"), 2, "online", "en"),
    StaffSpec("merchant1", "Xing", "Li", "merchant", shop="star-cards"),
    StaffSpec("merchant2", "Yue", "Sun", "merchant", shop="moon-codes"),
    StaffSpec("customer1", "Wei", "Zhang", "customer"),
]

ZH_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
ZH_GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "艳",
    "勇",
    "杰",
    "婷",
    "浩",
    "宇",
    "欣怡",
    "子轩",
    "雨桐",
    "俊杰",
    "思远",
    "晓峰",
    "佳琪",
    "梓涵",
    "一鸣",
]
EN_FIRST = [
    "Alex",
    "Emily",
    "Daniel",
    "Sophie",
    "Ryan",
    "Olivia",
    "Kevin",
    "Mia",
    "Jason",
    "Chloe",
    "Ethan",
    "Grace",
    "Lucas",
    "Hannah",
    "Nathan",
    "Zoe",
]
EN_LAST = ["Chen", "Carter", "Nguyen", "Smith", "Tan", "Walker", "Lee", "Brown", "Wong", "Miller", "Garcia", "Kim"]
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]


@dataclass(frozen=True)
class Product:
    name: str
    price: Decimal
    currency: str
    key_format: str  # see dataset.card_key()
    redeem_zh: str
    redeem_en: str


def _p(name: str, price: str, currency: str, key_format: str, redeem_zh: str, redeem_en: str) -> Product:
    return Product(name, Decimal(price), currency, key_format, redeem_zh, redeem_en)


PRODUCTS = [
    _p(
        "王者荣耀 点券卡 60元",
        "58.80",
        "CNY",
        "4x4",
        "游戏内「商城 → 充值 → 点券卡兑换」",
        "in-game Shop → Top up → Redeem card",
    ),
    _p("和平精英 点券卡 60元", "58.50", "CNY", "4x4", "游戏内「充值 → 卡密兑换」", "in-game Top up → Redeem code"),
    _p("原神 创世结晶 6480", "618.00", "CNY", "16", "米哈游官网兑换页「兑换码」", "the HoYoverse redemption page"),
    _p(
        "Steam 钱包充值卡 100元",
        "96.00",
        "CNY",
        "5x3",
        "Steam 客户端「游戏 → 兑换 Steam 钱包码」",
        "Steam client → Games → Redeem a Steam Wallet Code",
    ),
    _p(
        "Apple iTunes 礼品卡 100元",
        "97.50",
        "CNY",
        "apple",
        "App Store「账户 → 兑换礼品卡或代码」",
        "App Store → Account → Redeem Gift Card or Code",
    ),
    _p("Apple Gift Card $25 (US)", "25.00", "USD", "apple", "美区 App Store「兑换礼品卡」", "a US App Store account"),
    _p(
        "Google Play gift card $10",
        "10.00",
        "USD",
        "16",
        "Google Play「付款和订阅 → 兑换代码」",
        "Google Play → Payments & subscriptions → Redeem code",
    ),
    _p(
        "腾讯视频 VIP 月卡",
        "19.90",
        "CNY",
        "4x4",
        "腾讯视频 App「我的 → VIP 会员 → 兑换」",
        "Tencent Video app → VIP → Redeem",
    ),
    _p(
        "网易云音乐 黑胶VIP 年卡",
        "148.00",
        "CNY",
        "16",
        "网易云音乐「我的 → 会员中心 → 兑换码」",
        "NetEase Cloud Music → Member centre → Redeem code",
    ),
    _p(
        "爱奇艺 黄金VIP 季卡",
        "54.00",
        "CNY",
        "4x4",
        "爱奇艺 App「我的 → 激活码兑换」",
        "iQIYI app → Me → Activation code",
    ),
    _p("Xbox Game Pass Ultimate 1 Month", "16.99", "USD", "5x5", "microsoft.com/redeem", "microsoft.com/redeem"),
    _p(
        "PlayStation Store card $20 (US)",
        "20.00",
        "USD",
        "4x3",
        "PS5「PlayStation Store → 兑换代码」",
        "PS5 → PlayStation Store → Redeem code",
    ),
    _p(
        "京东E卡 100元",
        "99.00",
        "CNY",
        "4x4",
        "京东 App「我的 → 礼品卡 → 绑定新卡」",
        "JD app → Gift cards → Bind card",
    ),
    _p("Netflix gift card $30", "30.00", "USD", "16", "netflix.com/redeem", "netflix.com/redeem"),
]

# Payment channels: CNY orders through the domestic channels, USD ones mostly through USDT.
CNY_CHANNELS = [("alipay", 5), ("wechat_pay", 4), ("unionpay", 1)]
USD_CHANNELS = [("usdt", 4), ("alipay", 1)]
CHANNEL_NAMES = {
    "zh-hans": {"alipay": "支付宝", "wechat_pay": "微信支付", "unionpay": "云闪付", "usdt": "USDT"},
    "en": {"alipay": "Alipay", "wechat_pay": "WeChat Pay", "unionpay": "UnionPay", "usdt": "USDT (TRC20)"},
}

# (payment status, delivery status) of an order and how often it occurs.
ORDER_STATES = [
    (("paid", "delivered"), 55),
    (("paid", "pending"), 12),
    (("paid", "partial"), 5),
    (("paid", "failed"), 5),
    (("unpaid", "pending"), 8),
    (("failed", "pending"), 3),
    (("refunded", "failed"), 7),
    (("partially_refunded", "partial"), 5),
]

# Which orders a ticket of each category is about; None: the category is not about an order.
CATEGORY_ORDER_STATES: dict[str, set[tuple[str, str]] | None] = {
    "payment-not-received": {("unpaid", "pending"), ("paid", "pending"), ("failed", "pending")},
    "payment-double-charge": {("paid", "delivered"), ("paid", "pending"), ("partially_refunded", "partial")},
    "delivery-card-key-missing": {("paid", "pending"), ("paid", "failed"), ("paid", "partial")},
    "product-invalid-key": {("paid", "delivered"), ("paid", "partial")},
    "product-out-of-stock": {("paid", "pending"), ("paid", "failed"), ("refunded", "failed")},
    "refund": {("paid", "failed"), ("refunded", "failed"), ("partially_refunded", "partial"), ("paid", "delivered")},
    "account-security": None,
    "merchant-settlement": None,
    "how-to-redeem": {("paid", "delivered")},
}

CATEGORY_TAGS = {
    "payment-not-received": ["未到账", "催单"],
    "payment-double-charge": ["重复扣款", "refund"],
    "delivery-card-key-missing": ["未到账", "补发"],
    "product-invalid-key": ["卡密无效", "补发"],
    "product-out-of-stock": ["缺货", "refund"],
    "refund": ["refund", "退款"],
    "account-security": ["账号安全", "盗号"],
    "merchant-settlement": ["结算", "寄售"],
    "how-to-redeem": ["使用咨询"],
}

CATEGORY_PRIORITY = {
    "payment-double-charge": [("high", 3), ("normal", 2), ("urgent", 1)],
    "account-security": [("high", 3), ("urgent", 1), ("normal", 1)],
    "how-to-redeem": [("low", 3), ("normal", 2)],
}
DEFAULT_PRIORITY = [("normal", 6), ("high", 2), ("low", 1), ("urgent", 1)]
VIP_PRIORITY = [("high", 3), ("urgent", 2)]

TICKET_CHANNELS = [("web", 35), ("chat", 35), ("email", 15), ("plugin", 10), ("api", 5)]
# The thread's end state and how often it occurs (a share of the "open" ones are reopened after solving).
FINAL_STATUSES = [("new", 12), ("open", 22), ("pending", 15), ("on_hold", 8), ("solved", 23), ("closed", 20)]
