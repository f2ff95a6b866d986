"""Masking of card keys, redeem codes and phone numbers for every output (DESIGN.md invariant 4)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

_SEPARATORS = re.compile(r"([-\s_])")
# Codes as shops deliver them: 3+ groups of 4-6 letters/digits joined by dashes, or long unbroken codes.
CARD_KEY_PATTERN = re.compile(r"\b(?:[A-Za-z0-9]{4,6}-){2,}[A-Za-z0-9]{4,6}\b")
# Mainland China mobile numbers, optionally with +86.
PHONE_PATTERN = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")


def mask_card_key(value: str) -> str:
    """`ABCD-EFGH-IJKL-7890` -> `ABCD-****-****-7890`; `ABCDEFGH12347890` -> `ABCD********7890`."""
    value = value.strip()
    if not value:
        return value
    parts = _SEPARATORS.split(value)
    groups = parts[::2]
    if len(groups) >= 3:
        masked = [groups[0]] + ["*" * len(g) for g in groups[1:-1]] + [groups[-1]]
        out = []
        for i, group in enumerate(masked):
            out.append(group)
            if i < len(parts[1::2]):
                out.append(parts[1::2][i])
        return "".join(out)
    flat = value
    if len(flat) <= 4:
        return "*" * len(flat)
    keep = 4 if len(flat) >= 12 else 2
    return flat[:keep] + "*" * (len(flat) - 2 * keep) + flat[-keep:]


def mask_card_keys(text: str) -> str:
    """Mask one card key per line."""
    return "\n".join(mask_card_key(line) for line in text.splitlines())


def mask_phone(value: str) -> str:
    """`13812345678` -> `138****5678`; `+86 13812345678` -> `+86 138****5678`."""
    value = value.strip()
    digits = re.sub(r"\D", "", value)
    prefix = ""
    if value.startswith("+86") or (len(digits) == 13 and digits.startswith("86")):
        prefix, digits = "+86 ", digits[2:]
    elif value.startswith("+"):
        prefix = "+"
    if len(digits) >= 8:
        return prefix + digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if len(digits) > 2:
        return prefix + "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def mask_text(text: str, known_secrets: Iterable[str] = ()) -> str:
    """Mask known secrets (an order's delivered keys) and anything shaped like a card key or mobile number."""
    for secret in sorted({s.strip() for s in known_secrets if s and s.strip()}, key=len, reverse=True):
        text = text.replace(secret, mask_card_key(secret))
    text = CARD_KEY_PATTERN.sub(lambda m: mask_card_key(m.group(0)), text)
    return PHONE_PATTERN.sub(lambda m: mask_phone(m.group(0)), text)


class Secret:
    """A decrypted value that prints masked everywhere.

    `str()`, templates, `repr()`, logging and DRF's CharField all see the masked form; `json.dumps` refuses it
    (no silent leak); only `reveal()` returns the plain text, and callers of `reveal()` are permission-checked
    and audited.
    """

    __slots__ = ("_masker", "_value")

    def __init__(self, value: str, masker: Callable[[str], str]):
        self._value = value
        self._masker = masker

    def reveal(self) -> str:
        return self._value

    @property
    def masked(self) -> str:
        return self._masker(self._value)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"Secret({self.masked!r})"

    def __format__(self, spec: str) -> str:
        return format(self.masked, spec)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)
