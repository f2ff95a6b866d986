"""Signed context tokens: how a shop's platform tells the widget who the customer is and what they bought.

Format: ``base64url(JSON payload) + "." + base64url(HMAC-SHA256(shop.widget_secret, first part))``. The
payload carries ``sub`` (the platform's user id), ``exp`` (Unix time, required, at most 24 hours ahead) and
optionally ``name``, ``email``, ``tier``, ``lang``, ``orders`` (order numbers, or order objects with
``order_no``, ``product``, ``amount``, ``currency``, ``payment_status``, ``delivery_status``, ``card_keys`` …).
See docs/chat-protocol.md for a signing example in Python, PHP and Node.js.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

MAX_TOKEN_CHARS = 8192
MAX_LIFETIME_SECONDS = 24 * 3600
MAX_ORDERS = 20
CLOCK_SKEW_SECONDS = 60


class TokenError(Exception):
    """A token that cannot be trusted; `code` is the protocol's error code, the message is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ContextClaims:
    external_id: str
    expires_at: int
    name: str = ""
    email: str = ""
    tier: str = ""
    language: str = ""
    orders: list[dict[str, Any]] = field(default_factory=list)


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def context_token_sign(payload: dict[str, Any], secret: str) -> str:
    """What the shop's platform does (also used by tests, the demo page and the benchmark)."""
    body = _b64encode(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64encode(signature)}"


def context_token_verify(token: Any, secret: str, *, now: float | None = None) -> ContextClaims:
    """Check signature and expiry, then the payload's shape. Raises TokenError naming what is wrong."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise TokenError("token_malformed", "The context token is not a signed token.")
    if not secret:
        raise TokenError("token_unsupported", "This shop does not accept signed context tokens.")
    body, signature = token.split(".")
    expected = hmac.new(secret.encode(), body.encode("ascii", "replace"), hashlib.sha256).digest()
    try:
        given = _b64decode(signature)
    except (ValueError, TypeError):
        given = b""
    if not hmac.compare_digest(expected, given):
        raise TokenError("token_invalid", "The context token's signature does not match.")
    try:
        payload = json.loads(_b64decode(body))
    except (ValueError, TypeError):
        raise TokenError("token_malformed", "The context token's payload is not JSON.") from None
    if not isinstance(payload, dict):
        raise TokenError("token_malformed", "The context token's payload is not a JSON object.")
    now = time.time() if now is None else now
    exp = payload.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise TokenError("token_malformed", "The context token has no expiry (exp).")
    if exp < now - CLOCK_SKEW_SECONDS:
        raise TokenError("token_expired", "The context token has expired; reload the page.")
    if exp > now + MAX_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS:
        raise TokenError("token_malformed", "Context tokens may live at most 24 hours.")
    sub = payload.get("sub")
    if not isinstance(sub, str | int) or isinstance(sub, bool) or not str(sub).strip() or len(str(sub)) > 100:
        raise TokenError("token_malformed", "The context token names no customer (sub).")
    orders = payload.get("orders") or []
    if not isinstance(orders, list) or len(orders) > MAX_ORDERS:
        raise TokenError("token_malformed", f"orders must be a list of at most {MAX_ORDERS}.")
    normalised = []
    for item in orders:
        order = {"order_no": item} if isinstance(item, str) else item
        if not isinstance(order, dict) or not isinstance(order.get("order_no"), str) or not order["order_no"].strip():
            raise TokenError("token_malformed", "Each order needs an order_no.")
        normalised.append(order)

    def text(key: str, limit: int) -> str:
        value = payload.get(key)
        return value.strip()[:limit] if isinstance(value, str) else ""

    return ContextClaims(
        external_id=str(sub).strip(),
        expires_at=int(exp),
        name=text("name", 120),
        email=text("email", 254),
        tier=text("tier", 10),
        language=text("lang", 10),
        orders=normalised,
    )
