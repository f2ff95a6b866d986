"""Authenticated encryption of fields at rest (AES-256-GCM from `cryptography`).

Token format: `enc1:<key id>:<base64(nonce || ciphertext+tag)>`. The first key in FIELD_ENCRYPTION_KEYS
encrypts; every key decrypts, so keys rotate by prepending a new one. The field's label is bound as
associated data, so a ciphertext copied into another column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "enc1"


class DecryptionError(Exception):
    pass


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"carddesk-key-id" + key).hexdigest()[:8]


class FieldCipher:
    def __init__(self, keys: list[bytes]):
        if not keys:
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: set at least one base64 32-byte key.")
        for key in keys:
            if len(key) != 32:
                raise ImproperlyConfigured("Each FIELD_ENCRYPTION_KEYS entry must decode to 32 bytes.")
        self._primary = keys[0]
        self._by_id = {_key_id(k): AESGCM(k) for k in keys}
        self._primary_id = _key_id(self._primary)
        self._index_key = hmac.new(self._primary, b"carddesk-blind-index", hashlib.sha256).digest()

    def encrypt(self, plaintext: str, *, context: str) -> str:
        nonce = os.urandom(12)
        ct = self._by_id[self._primary_id].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{PREFIX}:{self._primary_id}:{base64.b64encode(nonce + ct).decode()}"

    def decrypt(self, token: str, *, context: str) -> str:
        try:
            prefix, key_id, payload = token.split(":", 2)
            raw = base64.b64decode(payload)
        except ValueError as exc:
            raise DecryptionError("not an encrypted token") from exc
        if prefix != PREFIX or key_id not in self._by_id:
            raise DecryptionError(f"unknown key id {key_id!r}")
        try:
            return self._by_id[key_id].decrypt(raw[:12], raw[12:], context.encode()).decode()
        except Exception as exc:  # InvalidTag: wrong key, wrong column or tampered data
            raise DecryptionError("ciphertext failed authentication") from exc

    def is_current(self, token: str) -> bool:
        return token.startswith(f"{PREFIX}:{self._primary_id}:")

    def blind_index(self, value: str) -> str:
        """Deterministic keyed digest for equality lookups (phone search) without storing plaintext."""
        return hmac.new(self._index_key, value.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=4)
def _cipher_for(keys: tuple[str, ...]) -> FieldCipher:
    try:
        return FieldCipher([base64.b64decode(k, validate=True) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS entries must be base64.") from exc


def get_cipher() -> FieldCipher:
    return _cipher_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def generate_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()
