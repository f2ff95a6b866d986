"""Signed context tokens and the waiting-room bot: pure functions, no database."""

import time

import pytest

from channels_app import bot
from channels_app.tokens import TokenError, context_token_sign, context_token_verify

SECRET = "s3cret-of-the-shop"


def _token(**claims):
    body = {"sub": "u1", "exp": int(time.time()) + 300}
    body.update(claims)
    return context_token_sign(body, SECRET)


def test_a_valid_token_gives_its_claims_with_orders_normalised():
    claims = context_token_verify(
        _token(name="李雷", tier="vip", orders=["A1", {"order_no": "B2", "amount": "9"}]), SECRET
    )
    assert claims.external_id == "u1" and claims.name == "李雷" and claims.tier == "vip"
    assert claims.orders == [{"order_no": "A1"}, {"order_no": "B2", "amount": "9"}]


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (None, "token_malformed"),
        ("no-dot", "token_malformed"),
        ("a.b.c", "token_malformed"),
        ("x" * 9000, "token_malformed"),
    ],
)
def test_tokens_that_are_not_tokens_are_refused(token, code):
    with pytest.raises(TokenError) as error:
        context_token_verify(token, SECRET)
    assert error.value.code == code


def test_a_token_signed_with_another_secret_or_changed_is_invalid():
    with pytest.raises(TokenError) as error:
        context_token_verify(context_token_sign({"sub": "u1", "exp": int(time.time()) + 60}, "other"), SECRET)
    assert error.value.code == "token_invalid"
    body, sig = _token().split(".")
    with pytest.raises(TokenError) as error:
        context_token_verify(body + "." + sig[:-2] + "AA", SECRET)
    assert error.value.code == "token_invalid"


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"exp": int(time.time()) - 3600}, "token_expired"),
        ({"exp": int(time.time()) + 3 * 24 * 3600}, "token_malformed"),  # longer than 24 h
        ({"exp": "tomorrow"}, "token_malformed"),
        ({"sub": ""}, "token_malformed"),
        ({"sub": True}, "token_malformed"),
        ({"orders": "A1"}, "token_malformed"),
        ({"orders": [{"product": "no number"}]}, "token_malformed"),
        ({"orders": [f"A{i}" for i in range(21)]}, "token_malformed"),
    ],
)
def test_claims_are_checked_after_the_signature(claims, code):
    with pytest.raises(TokenError) as error:
        context_token_verify(_token(**claims), SECRET)
    assert error.value.code == code


def test_a_shop_without_a_secret_accepts_no_token():
    with pytest.raises(TokenError) as error:
        context_token_verify(_token(), "")
    assert error.value.code == "token_unsupported"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我付款了但是没收到卡密", "paid_not_delivered"),
        ("I paid but did not receive the code for my order", "paid_not_delivered"),
        ("卡密无效，兑换失败", "invalid_key"),
        ("the key says already redeemed", "invalid_key"),
        ("银行卡扣了两次钱", "double_charge"),
        ("I was charged twice", "double_charge"),
        ("我想申请退款", "refund"),
        ("我的账号被盗了", "account_security"),
    ],
)
def test_the_bot_recognises_the_top_intents_in_both_languages(text, intent):
    assert bot.classify(text)[0] == intent
    assert bot.answer_for(text).intent == intent


@pytest.mark.parametrize("text", ["你好", "hello", "在吗", "没收到卡密，而且重复扣款了"])
def test_the_bot_stays_quiet_when_unsure(text):
    assert bot.answer_for(text) is None
