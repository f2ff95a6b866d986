"""Install the default business calendar, SLA policies and built-in rules, and a first classifier model.

Idempotent and conservative: a default that exists (by name) is left exactly as a supervisor edited it, and
one that was deleted comes back only with `restore=True`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from helpdesk.audit import audit_record
from tickets.automation.builtin import CALENDAR, SLA_POLICIES, rule_definitions
from tickets.models import Calendar, CalendarSlot, ClassifierModel, Rule, SlaPolicy
from tickets.services.classifier import classifier_train
from tickets.services.sla import sla_cache_clear


@dataclass(frozen=True)
class Installed:
    calendars: int
    policies: int
    rules: int
    classifier: int | None  # the model trained now, if there was none


@transaction.atomic
def automation_defaults_install(*, train: bool = True) -> Installed:
    calendar = Calendar.objects.filter(name=CALENDAR["name"]).first()
    new_calendars = 0
    if calendar is None:
        calendar = Calendar.objects.create(name=CALENDAR["name"], time_zone=CALENDAR["time_zone"])
        CalendarSlot.objects.bulk_create(
            CalendarSlot(calendar=calendar, weekday=d, start=a, end=b) for d, a, b in CALENDAR["slots"]
        )
        audit_record(actor=None, action="calendar.create", obj=calendar, changes={"slots": len(CALENDAR["slots"])})
        new_calendars = 1
    new_policies = 0
    for spec in SLA_POLICIES:
        if SlaPolicy.objects.filter(name=spec["name"]).exists():
            continue
        values = {k: v for k, v in spec.items() if k != "calendar"}
        policy = SlaPolicy.objects.create(**values, calendar=calendar if spec["calendar"] == "default" else None)
        audit_record(actor=None, action="sla_policy.create", obj=policy, changes={"builtin": True})
        new_policies += 1
    new_rules = 0
    for spec in rule_definitions():
        if Rule.objects.filter(name=spec["name"]).exists():
            continue
        rule = Rule(**spec, is_builtin=True)
        rule.full_clean()
        rule.save()
        audit_record(actor=None, action="rule.create", obj=rule, changes={"builtin": True})
        new_rules += 1
    trained = None
    if train and not ClassifierModel.objects.filter(is_active=True).exists():
        trained = classifier_train().pk
    transaction.on_commit(sla_cache_clear)
    return Installed(new_calendars, new_policies, new_rules, trained)
