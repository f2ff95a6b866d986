"""The rules, SLA policies and business calendar a new desk starts with (installed by `seed_automation`,
editable afterwards in the admin; an edited or deleted default is never put back).

Keyword rules suggest a category: it is set only while the ticket has none (a customer's or agent's choice,
or a confident classifier, wins); tags always apply, so a ticket carries every dimension: content, tier,
order amount.
"""

from __future__ import annotations

from datetime import time


def _text(*words: str) -> dict:
    return {"field": "text", "op": "contains_any", "value": list(words)}


def _categorise(slug: str, tags: list[str], priority: str | None = None) -> list[dict]:
    actions = [{"type": "add_tags", "value": tags}]
    if priority:
        actions.append({"type": "set_priority", "value": priority})
    return [*actions, {"type": "suggest_category", "value": slug}]


BUILTIN_RULES: list[dict] = [
    {
        "name": "付款未到账 · Paid but not received",
        "position": 10,
        "conditions": [
            _text(
                "已付款",
                "付了款",
                "付过款",
                "付款成功",
                "支付成功",
                "扣款了",
                "钱扣了",
                "扣了钱",
                "paid",
                "payment went through",
                "money was taken",
                "charged",
            ),
            _text(
                "没到账",
                "未到账",
                "没有到账",
                "显示未支付",
                "未支付",
                "待支付",
                "没收到",
                "没有订单",
                "still unpaid",
                "not received",
                "shows unpaid",
                "didn't receive",
                "no order",
                "not credited",
            ),
        ],
        "tags": ["payment", "paid-not-received"],
        "category": "payment-not-received",
        "priority": "high",
    },
    {
        "name": "重复扣款 · Charged twice",
        "position": 20,
        "conditions": [
            _text(
                "重复扣款",
                "扣了两次",
                "扣款两次",
                "扣了两笔",
                "两笔扣款",
                "多扣",
                "重复支付",
                "charged twice",
                "double charge",
                "double charged",
                "charged two times",
                "paid twice",
            )
        ],
        "tags": ["payment", "double-charge"],
        "category": "payment-double-charge",
        "priority": "high",
    },
    {
        "name": "卡密未发放 · Card key not delivered",
        "position": 30,
        "conditions": [
            _text(
                "卡密没收到",
                "没收到卡密",
                "没有收到卡密",
                "没发卡",
                "不发卡",
                "未发货",
                "不发货",
                "没发货",
                "卡密呢",
                "没有卡密",
                "没给卡密",
                "code not delivered",
                "didn't get the code",
                "did not get the code",
                "no card key",
                "haven't received the code",
                "where is my code",
                "not delivered",
            )
        ],
        "tags": ["delivery"],
        "category": "delivery-card-key-missing",
    },
    {
        "name": "卡密无效或已使用 · Invalid or used card key",
        "position": 40,
        "conditions": [
            _text(
                "卡密无效",
                "无效",
                "已被使用",
                "已使用",
                "被用过",
                "用不了",
                "兑换失败",
                "充值失败",
                "提示错误",
                "激活失败",
                "invalid",
                "already used",
                "already redeemed",
                "doesn't work",
                "does not work",
                "not working",
                "redeem failed",
                "wrong region",
            )
        ],
        "tags": ["product", "invalid-key"],
        "category": "product-invalid-key",
    },
    {
        "name": "缺货/补货 · Out of stock",
        "position": 50,
        "conditions": [
            _text(
                "缺货",
                "没货",
                "补货",
                "库存",
                "售罄",
                "什么时候有货",
                "out of stock",
                "restock",
                "sold out",
                "back in stock",
            )
        ],
        "tags": ["product", "stock"],
        "category": "product-out-of-stock",
    },
    {
        "name": "退款 · Refund",
        "position": 60,
        "conditions": [_text("退款", "退钱", "退回", "原路返回", "refund", "money back", "reimburse")],
        "tags": ["refund"],
        "category": "refund",
    },
    {
        "name": "账号安全 · Account security",
        "position": 70,
        "conditions": [
            _text(
                "被盗",
                "盗号",
                "异地登录",
                "密码",
                "改绑",
                "换绑",
                "验证码",
                "冻结",
                "被封",
                "hacked",
                "stolen",
                "password",
                "2fa",
                "two-factor",
                "unknown login",
                "suspicious login",
                "account locked",
            )
        ],
        "tags": ["account-security"],
        "category": "account-security",
        "priority": "high",
    },
    {
        "name": "商户/寄售结算 · Merchant settlement",
        "position": 80,
        "conditions": [
            _text(
                "结算",
                "提现",
                "佣金",
                "寄售",
                "分成",
                "打款",
                "货款",
                "商户后台",
                "settlement",
                "withdraw",
                "payout",
                "commission",
                "consignment",
                "merchant",
            )
        ],
        "tags": ["merchant"],
        "category": "merchant-settlement",
    },
    {
        "name": "使用咨询 · How-to",
        "position": 90,
        "conditions": [
            _text(
                "怎么用",
                "如何使用",
                "如何兑换",
                "怎么兑换",
                "怎么充值",
                "如何充值",
                "在哪里输入",
                "在哪兑换",
                "教程",
                "how to",
                "how do i",
                "where do i enter",
                "how can i redeem",
                "steps",
            )
        ],
        "tags": ["how-to"],
        "category": "how-to-redeem",
    },
    {
        "name": "投诉风险 · Complaint risk",
        "position": 100,
        "conditions": [
            _text(
                "投诉",
                "12315",
                "消协",
                "工商",
                "报警",
                "曝光",
                "黑店",
                "骗子",
                "骗钱",
                "差评",
                "chargeback",
                "scam",
                "fraud",
                "report you",
                "lawyer",
                "police",
            )
        ],
        "actions": [
            {"type": "add_tags", "value": ["complaint-risk"]},
            {"type": "set_priority", "value": "urgent"},
            {"type": "notify", "value": "supervisors"},
        ],
        "triggers": ["created", "customer_message"],
    },
    {
        "name": "VIP 客户 · VIP customer",
        "position": 110,
        "conditions": [{"field": "tier", "op": "in", "value": ["vip"]}],
        "actions": [{"type": "add_tags", "value": ["vip"]}],
    },
    {
        "name": "大额订单 · High-value order",
        "position": 120,
        "conditions": [{"field": "order_amount", "op": "gte", "value": 500}],
        "actions": [{"type": "add_tags", "value": ["high-value"]}],
    },
    {
        "name": "非工作时间 · Outside business hours",
        "position": 130,
        "conditions": [{"field": "business_hours", "op": "is", "value": False}],
        "actions": [{"type": "add_tags", "value": ["after-hours"]}],
    },
]


def rule_definitions() -> list[dict]:
    """The built-in rules as Rule field values."""
    out = []
    for spec in BUILTIN_RULES:
        actions = spec.get("actions") or _categorise(spec["category"], spec["tags"], spec.get("priority"))
        out.append(
            {
                "name": spec["name"],
                "position": spec["position"],
                "triggers": spec.get("triggers", ["created"]),
                "match_all": True,
                "conditions": spec["conditions"],
                "actions": actions,
            }
        )
    return out


# Daily 09:00–12:00 and 13:30–23:00 in Shanghai: typical of card shops' staffed hours.
CALENDAR = {
    "name": "客服工作时间 · Support hours (Asia/Shanghai)",
    "time_zone": "Asia/Shanghai",
    "slots": [(day, time(9, 0), time(12, 0)) for day in range(7)]
    + [(day, time(13, 30), time(23, 0)) for day in range(7)],
}

SLA_POLICIES: list[dict] = [
    {
        "name": "紧急 24×7 · Urgent around the clock",
        "position": 10,
        "priorities": ["urgent"],
        "first_response_minutes": 5,
        "next_response_minutes": 10,
        "resolution_minutes": 240,
        "warn_percentages": [50, 80],
        "calendar": None,
        "escalate_notify_supervisors": True,
    },
    {
        "name": "VIP",
        "position": 20,
        "tiers": ["vip"],
        "first_response_minutes": 10,
        "next_response_minutes": 30,
        "resolution_minutes": 480,
        "warn_percentages": [50, 80],
        "calendar": None,
        "escalate_notify_supervisors": True,
    },
    {
        "name": "高优先级 · High priority",
        "position": 30,
        "priorities": ["high"],
        "first_response_minutes": 15,
        "next_response_minutes": 60,
        "resolution_minutes": 1440,
        "warn_percentages": [80],
        "warn_minutes_before": [5],
        "calendar": "default",
        "escalate_notify_supervisors": True,
    },
    {
        "name": "标准 · Standard",
        "position": 100,
        "first_response_minutes": 60,
        "next_response_minutes": 240,
        "resolution_minutes": 2880,
        "warn_percentages": [80],
        "calendar": "default",
        "escalate_notify_supervisors": True,
        "escalate_raise_priority": True,
    },
]
