"""Supervisors configure automation in the admin: bad rules are refused with the problem named, the dry run
lists matches and changes nothing, policy edits are audited and recompute open tickets; agents see none of it."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from helpdesk.models import AuditEvent
from helpdesk.roles import Role
from tests.factories import make_agent, make_ticket, make_user
from tickets.models import Rule, RuleExecution, SlaPolicy, Ticket
from tickets.services.sla import sla_cache_clear

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor_client(client):
    client.force_login(make_user(Role.SUPERVISOR, username="boss"))
    return client


def rule_form(**overrides) -> dict:
    data = {
        "name": "Steam keys",
        "description": "",
        "position": 5,
        "is_active": "on",
        "triggers": "created",
        "match_all": "on",
        "conditions": json.dumps([{"field": "text", "op": "contains_any", "value": ["steam"]}]),
        "actions": json.dumps([{"type": "add_tags", "value": ["steam"]}]),
        "shop": "",
    }
    data.update(overrides)
    return data


def test_a_rule_with_a_bad_condition_is_refused_naming_the_problem_and_nothing_saved(supervisor_client):
    bad = json.dumps([{"field": "text", "op": "regex", "value": "(unclosed"}])
    response = supervisor_client.post(reverse("admin:tickets_rule_add"), rule_form(conditions=bad))
    assert response.status_code == 200
    assert "invalid regex" in response.content.decode()
    assert not Rule.objects.exists()


def test_a_valid_rule_is_saved_audited_and_its_dry_run_lists_matches(supervisor_client, shop):
    response = supervisor_client.post(reverse("admin:tickets_rule_add"), rule_form())
    assert response.status_code == 302
    rule = Rule.objects.get(name="Steam keys")
    assert AuditEvent.objects.filter(action="rule.create", object_id=str(rule.pk)).exists()
    hit = make_ticket(shop=shop, subject="Steam 充值卡无效", body="steam code invalid")
    make_ticket(shop=shop, subject="别的", body="其他问题")
    page = supervisor_client.get(reverse("admin:tickets_rule_preview", args=[rule.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert hit.reference in body and "1 of the 2 newest open tickets" in body
    assert not RuleExecution.objects.exists()


def test_policy_edit_recomputes_its_open_tickets(supervisor_client, shop, queue, django_capture_on_commit_callbacks):
    policy = SlaPolicy.objects.create(name="Std", first_response_minutes=60)
    sla_cache_clear()
    ticket = make_ticket(shop=shop, queue=queue)
    before = Ticket.objects.get(pk=ticket.pk).sla_first_response_due_at
    data = {
        "name": "Std",
        "position": 100,
        "is_active": "on",
        "priorities": "",
        "tiers": "",
        "channels": "",
        "first_response_minutes": 10,
        "next_response_minutes": "",
        "resolution_minutes": "",
        "calendar": "",
        "warn_percentages": "50,80",
        "warn_minutes_before": "",
        "escalate_notify_supervisors": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = supervisor_client.post(reverse("admin:tickets_slapolicy_change", args=[policy.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    after = Ticket.objects.get(pk=ticket.pk).sla_first_response_due_at
    assert (before - after).total_seconds() == 50 * 60
    assert AuditEvent.objects.filter(action="slapolicy.update", object_id=str(policy.pk)).exists()


def test_agents_cannot_reach_automation_admin(client, queue):
    client.force_login(make_agent(queue))
    for name in ("rule", "slapolicy", "calendar", "slaevent"):
        assert client.get(reverse(f"admin:tickets_{name}_changelist")).status_code == 403
