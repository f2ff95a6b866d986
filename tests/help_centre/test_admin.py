"""Supervisors revoke tracking links in admin (audited, through the service); nobody else sees them."""

from __future__ import annotations

import pytest
from django.urls import reverse

import tickets.admin.tracking  # noqa: F401  (registers the admins until tickets/admin/__init__.py imports it)
from helpdesk.models import AuditEvent
from tickets.models import TrackingToken
from tickets.services.tracking import tracking_token_issue, tracking_token_resolve

CHANGELIST = "admin:tickets_trackingtoken_changelist"


@pytest.mark.django_db
def test_supervisor_revokes_selected_links(client, supervisor, ticket):
    from tickets.errors import NotVisible

    token = tracking_token_issue(ticket=ticket)
    keep = tracking_token_issue(ticket=ticket)
    row = TrackingToken.objects.get(token_hash=_hash(token))
    client.force_login(supervisor)
    page = client.get(reverse(CHANGELIST))
    assert page.status_code == 200 and ticket.reference in page.content.decode()
    assert token not in page.content.decode()
    response = client.post(reverse(CHANGELIST), {"action": "revoke_selected", "_selected_action": [row.pk]})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None
    event = AuditEvent.objects.get(action="ticket.tracking_link_revoked")
    assert event.actor == supervisor and event.changes == {"token_ids": [row.pk]}
    assert tracking_token_resolve(keep) == ticket
    client.post(reverse(CHANGELIST), {"action": "revoke_all_of_tickets", "_selected_action": [row.pk]})
    for plain in (token, keep):
        with pytest.raises(NotVisible):
            tracking_token_resolve(plain)


def _hash(token: str) -> str:
    from tickets.services.tracking import token_hash

    return token_hash(token)


@pytest.mark.django_db
def test_agents_do_not_see_links_ratings_or_emails(client, agent):
    client.force_login(agent)
    for name in ("tickets_trackingtoken", "tickets_csatresponse", "helpdesk_outboxemail"):
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 403


@pytest.mark.django_db
def test_supervisor_sees_outbox_bodies_masked(client, supervisor, shop, django_capture_on_commit_callbacks):
    from helpdesk.models import OutboxEmail
    from tests.factories import make_customer, make_ticket
    from tickets.services.notifications import ticket_received_notify

    ticket = make_ticket(shop=shop, customer=make_customer(shop, external_id="", email="m@example.com"))
    token = tracking_token_issue(ticket=ticket)
    from django.db import transaction

    with transaction.atomic():
        email = ticket_received_notify(ticket=ticket, token=token)
    client.force_login(supervisor)
    html = client.get(reverse("admin:helpdesk_outboxemail_change", args=[email.pk])).content.decode()
    assert "/t/****" in html and token not in html
    assert OutboxEmail.objects.count() == 1
