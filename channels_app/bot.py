"""The waiting-room assistant: recognises the top intents of a digital-goods shop and answers them at once.

Deliberately a small, explainable keyword scorer (zh + en): it only answers when one intent clearly wins,
always says a person is on the way, and never acts on the customer's account or order. Anything it is not
sure of is left to the knowledge-base suggestions and the agent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# Answer only when the best intent scores at least this and clearly beats the runner-up.
CONFIDENCE_THRESHOLD = 0.6
MARGIN = 0.25


@dataclass(frozen=True)
class Intent:
    slug: str
    keywords: tuple[str, ...]  # any one is a strong signal
    support: tuple[str, ...]  # each adds a little
    answer: object  # lazy translated string


INTENTS: tuple[Intent, ...] = (
    Intent(
        "paid_not_delivered",
        (
            "没收到卡密",
            "没有收到卡密",
            "未收到卡密",
            "没发货",
            "未发货",
            "不发货",
            "没有发货",
            "没到账",
            "未到账",
            "not received",
            "didn't receive",
            "did not receive",
            "no card key",
            "not delivered",
            "haven't received",
        ),
        ("付款", "支付", "已付", "扣款", "订单", "卡密", "paid", "payment", "order", "code", "key"),
        _(
            "Sorry about the missing card key. Most deliveries arrive within 5 minutes of payment; if yours has "
            "not, an agent will check the order and resend it. Please keep the order number at hand."
        ),
    ),
    Intent(
        "invalid_key",
        (
            "卡密无效",
            "卡密错误",
            "卡密不对",
            "卡密已使用",
            "已被使用",
            "充值失败",
            "兑换失败",
            "无法兑换",
            "用不了",
            "invalid code",
            "invalid key",
            "already used",
            "already redeemed",
            "doesn't work",
            "does not work",
            "redeem failed",
        ),
        ("卡密", "兑换", "激活", "充值", "code", "key", "redeem", "activate"),
        _(
            "If a card key is rejected, check the region and the platform it is for, and copy it without spaces. "
            "If it still fails, send a screenshot of the error and an agent will verify it and replace it when "
            "it is faulty."
        ),
    ),
    Intent(
        "double_charge",
        (
            "重复扣款",
            "扣了两次",
            "扣款两次",
            "多扣",
            "重复支付",
            "charged twice",
            "double charge",
            "double charged",
            "charged two times",
            "duplicate charge",
        ),
        ("扣款", "支付", "银行", "退款", "charge", "bank", "refund"),
        _(
            "A second charge for the same order is refunded to the original payment method once we confirm it. "
            "An agent will check both payments; refunds usually reach you in 1 to 3 working days."
        ),
    ),
    Intent(
        "refund",
        ("退款", "退钱", "申请退款", "refund", "money back"),
        ("订单", "取消", "多久", "到账", "order", "cancel", "how long"),
        _(
            "Unused card keys can be refunded. An agent will confirm the order's state; once approved, the money "
            "returns to the original payment method within 1 to 3 working days."
        ),
    ),
    Intent(
        "account_security",
        (
            "被盗",
            "盗号",
            "账号被",
            "密码被改",
            "异地登录",
            "hacked",
            "stolen account",
            "account stolen",
            "someone logged in",
            "password changed",
        ),
        ("账号", "密码", "登录", "account", "password", "login"),
        _(
            "Please change your password now and do not share any verification code with anyone, including "
            "people who say they are staff. An agent will help you secure the account."
        ),
    ),
)

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class BotAnswer:
    intent: str
    confidence: float
    text: str


def classify(text: str) -> tuple[str | None, float]:
    """The best intent and a confidence in [0, 1] (0 when nothing matched)."""
    normalised = _SPACE.sub(" ", (text or "").lower())
    scores = []
    for intent in INTENTS:
        score = 0.0
        if any(k in normalised for k in intent.keywords):
            score += 0.7
        score += min(0.3, 0.1 * sum(1 for s in intent.support if s in normalised))
        scores.append((score, intent.slug))
    scores.sort(reverse=True)
    best, runner_up = scores[0], scores[1]
    if best[0] < CONFIDENCE_THRESHOLD or best[0] - runner_up[0] < MARGIN:
        return None, best[0]
    return best[1], round(best[0], 2)


def answer_for(text: str) -> BotAnswer | None:
    slug, confidence = classify(text)
    if slug is None:
        return None
    intent = next(i for i in INTENTS if i.slug == slug)
    return BotAnswer(slug, confidence, str(intent.answer))
