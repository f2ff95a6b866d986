"""Who is searching, without storing who: session hashes and the signed search-log tokens given to clients."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.core import signing
from django.http import HttpRequest

LOG_TOKEN_SALT = "knowledge.search-log"  # noqa: S105 (a namespace for the signer, not a secret)
LOG_TOKEN_MAX_AGE = 24 * 3600  # a search older than a day no longer explains a ticket


def _digest(value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()[:40]


def session_key_hash(request: HttpRequest, *, create: bool = False) -> str:
    """A keyed hash of the browser session (the raw key is a credential and is never stored).

    Without a session: a new one when `create` (votes need a stable key), else a hash of address and user
    agent, good enough to group one client's keystrokes.
    """
    session = getattr(request, "session", None)
    if session is not None:
        if session.session_key is None and create:
            session.save()
        if session.session_key:
            return _digest("session:" + session.session_key)
    return client_hash(request)


def client_hash(request: HttpRequest) -> str:
    """A keyed hash of the client's address and user agent (for clients without a session cookie)."""
    address = request.META.get("REMOTE_ADDR", "")
    agent = request.META.get("HTTP_USER_AGENT", "")[:300]
    return _digest(f"client:{address}:{agent}")


def log_token(log_id: int) -> str:
    """The opaque, signed reference to a search log that a client may report outcomes for."""
    return signing.TimestampSigner(salt=LOG_TOKEN_SALT).sign(str(log_id))


def log_id_from_token(token: str | None, *, max_age: int = LOG_TOKEN_MAX_AGE) -> int | None:
    """The log id a token names, or None when it is malformed, forged or older than max_age seconds."""
    if not token or not isinstance(token, str) or len(token) > 100:
        return None
    try:
        value = signing.TimestampSigner(salt=LOG_TOKEN_SALT).unsign(token, max_age=max_age)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    return int(value) if value.isdigit() else None
