"""The rule language: validation names the problem; matching is case- and width-insensitive, zh and en."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tickets.automation.rules import Facts, RuleError, rule_matches, validate_actions, validate_conditions


def facts(**overrides) -> Facts:
    values = {
        "text": "",
        "subject": "",
        "channel": "web",
        "tier": "normal",
        "category": "",
        "shop": "star-cards",
        "priority": "normal",
        "payment_status": "paid",
        "delivery_status": "pending",
        "intent": "",
        "language": "zh-hans",
        "order_amount": Decimal("30.00"),
        "sentiment": 0.0,
        "business_hours": True,
        "has_order": True,
    }
    values.update(overrides)
    return Facts(**values)


def cond(field, op, value) -> dict:
    return {"field": field, "op": op, "value": value}


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ("x", "conditions must be a JSON list"),
        ([cond("colour", "in", ["red"])], "unknown field 'colour'"),
        ([cond("text", "in", ["a"])], "text takes"),
        ([cond("text", "regex", "(unclosed")], "invalid regex"),
        ([cond("text", "contains_any", [])], "non-empty list"),
        ([cond("order_amount", "gte", "lots")], "must be a number"),
        ([cond("business_hours", "is", "yes")], "true or false"),
        ([{"field": "text", "op": "contains_any", "value": ["a"], "extra": 1}], "expected"),
    ],
)
def test_bad_conditions_are_refused_with_the_problem_named(conditions, message):
    with pytest.raises(RuleError, match=message):
        validate_conditions(conditions)


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        ([], "non-empty"),
        ([{"type": "explode", "value": 1}], "unknown type 'explode'"),
        ([{"type": "notify", "value": "everyone"}], "notify takes"),
        ([{"type": "set_priority", "value": ""}], "non-empty string"),
    ],
)
def test_bad_actions_are_refused_with_the_problem_named(actions, message):
    with pytest.raises(RuleError, match=message):
        validate_actions(actions)


def test_text_matching_is_case_and_width_insensitive_in_both_languages():
    f = facts(text="付款成功但 ＣＯＤＥ NOT Received，订单ＤＤ２０２６")
    assert rule_matches([cond("text", "contains_any", ["not received"])], f)
    assert rule_matches([cond("text", "contains_all", ["付款成功", "code"])], f)
    assert not rule_matches([cond("text", "not_contains", ["付款"])], f)
    assert rule_matches([cond("text", "regex", r"dd\d{4}")], f)


def test_all_versus_any_and_empty_conditions():
    f = facts(tier="vip", order_amount=Decimal("800"))
    conditions = [cond("tier", "in", ["vip"]), cond("order_amount", "lt", 100)]
    assert not rule_matches(conditions, f, match_all=True)
    assert rule_matches(conditions, f, match_all=False)
    assert rule_matches([], f)


def test_numbers_choices_and_flags():
    assert rule_matches([cond("order_amount", "gte", 30)], facts())
    assert not rule_matches([cond("order_amount", "gt", 30)], facts())
    assert not rule_matches([cond("order_amount", "gte", 1)], facts(order_amount=None))
    assert rule_matches([cond("channel", "not_in", ["chat"])], facts())
    assert rule_matches([cond("business_hours", "is", False)], facts(business_hours=False))
    assert rule_matches([cond("has_category", "is", False)], facts())
    assert not rule_matches([cond("has_category", "is", False)], facts(category="refund"))
