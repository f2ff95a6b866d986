"""The rule language: what a condition and an action look like, validating them, and matching conditions
against a ticket's facts. Pure (no ORM): tickets.services.automation gathers the facts and applies actions.

A condition is ``{"field": "text", "op": "contains_any", "value": ["没收到", "not received"]}``; an action is
``{"type": "add_tags", "value": ["payment"]}``. Text matching is case-insensitive and NFKC-normalised, so
full-width letters and digits match their ASCII forms.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

TEXT_FIELDS = frozenset({"text", "subject"})
CHOICE_FIELDS = frozenset(
    {"channel", "tier", "category", "shop", "priority", "payment_status", "delivery_status", "intent", "language"}
)
NUMBER_FIELDS = frozenset({"order_amount", "sentiment"})
BOOL_FIELDS = frozenset({"business_hours", "has_order", "has_category"})

TEXT_OPS = frozenset({"contains_any", "contains_all", "not_contains", "regex"})
CHOICE_OPS = frozenset({"in", "not_in"})
NUMBER_OPS = frozenset({"gt", "gte", "lt", "lte"})
BOOL_OPS = frozenset({"is"})

ACTION_TYPES = frozenset(
    {"add_tags", "set_category", "suggest_category", "set_priority", "set_queue", "assign", "notify", "canned_reply"}
)
NOTIFY_TARGETS = frozenset({"supervisors", "assignee", "queue"})
MAX_REGEX = 300


class RuleError(ValueError):
    """A condition or action that cannot run; the message names the problem for the admin form."""


@dataclass(frozen=True)
class Facts:
    """What rules may look at, gathered once per ticket event."""

    text: str  # subject + the triggering message, plain text
    subject: str
    channel: str
    tier: str
    category: str  # slug, "" when none
    shop: str  # slug
    priority: str
    payment_status: str
    delivery_status: str
    intent: str
    language: str
    order_amount: Decimal | None
    sentiment: float | None
    business_hours: bool
    has_order: bool

    @property
    def has_category(self) -> bool:
        return bool(self.category)


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold()


def _words(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise RuleError(f"{where}: value must be a non-empty list of words")
    return value


def validate_conditions(conditions: Any) -> None:
    if not isinstance(conditions, list):
        raise RuleError("conditions must be a JSON list")
    for index, cond in enumerate(conditions, start=1):
        where = f"condition {index}"
        if not isinstance(cond, dict) or set(cond) - {"field", "op", "value"}:
            raise RuleError(f'{where}: expected {{"field", "op", "value"}}')
        field, op, value = cond.get("field"), cond.get("op"), cond.get("value")
        if field in TEXT_FIELDS:
            if op not in TEXT_OPS:
                raise RuleError(f"{where}: {field} takes {', '.join(sorted(TEXT_OPS))}")
            if op == "regex":
                if not isinstance(value, str) or not value or len(value) > MAX_REGEX:
                    raise RuleError(f"{where}: regex must be a pattern of 1–{MAX_REGEX} characters")
                try:
                    re.compile(value)
                except re.error as exc:
                    raise RuleError(f"{where}: invalid regex: {exc}") from exc
            else:
                _words(value, where)
        elif field in CHOICE_FIELDS:
            if op not in CHOICE_OPS:
                raise RuleError(f"{where}: {field} takes in / not_in")
            _words(value, where)
        elif field in NUMBER_FIELDS:
            if op not in NUMBER_OPS:
                raise RuleError(f"{where}: {field} takes gt / gte / lt / lte")
            _number(value, where)
        elif field in BOOL_FIELDS:
            if op not in BOOL_OPS or not isinstance(value, bool):
                raise RuleError(f'{where}: {field} takes "is" with true or false')
        else:
            known = sorted(TEXT_FIELDS | CHOICE_FIELDS | NUMBER_FIELDS | BOOL_FIELDS)
            raise RuleError(f"{where}: unknown field {field!r}; known: {', '.join(known)}")


def _number(value: Any, where: str) -> Decimal:
    if isinstance(value, bool):
        raise RuleError(f"{where}: value must be a number")
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise RuleError(f"{where}: value must be a number") from exc


def validate_actions(actions: Any) -> None:
    if not isinstance(actions, list) or not actions:
        raise RuleError("actions must be a non-empty JSON list")
    for index, action in enumerate(actions, start=1):
        where = f"action {index}"
        if not isinstance(action, dict) or set(action) - {"type", "value"}:
            raise RuleError(f'{where}: expected {{"type", "value"}}')
        kind, value = action.get("type"), action.get("value")
        if kind not in ACTION_TYPES:
            raise RuleError(f"{where}: unknown type {kind!r}; known: {', '.join(sorted(ACTION_TYPES))}")
        if kind == "add_tags":
            _words(value, where)
        elif kind == "notify":
            if value not in NOTIFY_TARGETS:
                raise RuleError(f"{where}: notify takes {', '.join(sorted(NOTIFY_TARGETS))}")
        elif not isinstance(value, str) or not value.strip():
            raise RuleError(f"{where}: value must be a non-empty string")


def condition_matches(cond: dict, facts: Facts) -> bool:
    field, op, value = cond["field"], cond["op"], cond["value"]
    actual = getattr(facts, field)
    if field in TEXT_FIELDS:
        haystack = fold(actual)
        if op == "regex":
            return re.search(value, haystack, flags=re.IGNORECASE) is not None
        needles = [fold(v) for v in _words(value, field)]
        if op == "contains_any":
            return any(n in haystack for n in needles)
        if op == "contains_all":
            return all(n in haystack for n in needles)
        return not any(n in haystack for n in needles)  # not_contains
    if field in CHOICE_FIELDS:
        member = fold(actual) in {fold(v) for v in _words(value, field)}
        return member if op == "in" else not member
    if field in NUMBER_FIELDS:
        if actual is None:
            return False
        number, limit = Decimal(str(actual)), _number(value, field)
        return {"gt": number > limit, "gte": number >= limit, "lt": number < limit, "lte": number <= limit}[op]
    return bool(actual) is value


def rule_matches(conditions: list[dict], facts: Facts, *, match_all: bool = True) -> bool:
    """No conditions match everything; otherwise all (or any) must hold."""
    if not conditions:
        return True
    results = (condition_matches(c, facts) for c in conditions)
    return all(results) if match_all else any(results)
