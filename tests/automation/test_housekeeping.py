"""Beat upkeep: long-solved tickets close (and no longer reopen); a pending ticket gets one reminder."""

from __future__ import annotations

import pytest

from helpdesk.models import OutboxEmail
from tests.factories import make_agent, make_ticket
from tickets import services
from tickets.errors import TicketClosed
from tickets.models import Status, Ticket
from tickets.services.housekeeping import pending_remind, solved_autoclose

pytestmark = pytest.mark.django_db


def test_solved_tickets_close_after_the_configured_days(clock, shop, queue, settings):
    settings.AUTO_CLOSE_DAYS = 3
    agent = make_agent(queue)
    old, recent = make_ticket(shop=shop, queue=queue), make_ticket(shop=shop, queue=queue)
    services.ticket_change_status(ticket=old, actor=agent, status=Status.SOLVED)
    clock.advance(days=2)
    services.ticket_change_status(ticket=recent, actor=agent, status=Status.SOLVED)
    clock.advance(days=1, hours=1)
    assert solved_autoclose() == 1
    assert Ticket.objects.get(pk=old.pk).status == Status.CLOSED
    assert Ticket.objects.get(pk=recent.pk).status == Status.SOLVED
    with pytest.raises(TicketClosed):
        services.customer_message_post(ticket=old, actor=None, body="还在吗")
    settings.AUTO_CLOSE_DAYS = 0
    clock.advance(days=30)
    assert solved_autoclose() == 0


def test_pending_tickets_get_one_reminder_per_pending_stretch(clock, shop, queue, settings):
    settings.PENDING_REMIND_HOURS = 24
    agent = make_agent(queue)
    ticket = make_ticket(shop=shop, queue=queue)
    services.agent_reply_post(ticket=ticket, actor=agent, body="请提供付款截图")
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.PENDING)
    clock.advance(hours=23)
    assert pending_remind() == 0
    clock.advance(hours=2)
    assert pending_remind() == 1
    assert pending_remind() == 0  # once
    email = OutboxEmail.objects.get(key__startswith=f"pending-reminder:{ticket.pk}:")
    assert email.to == "zhangsan@example.com" and ticket.reference in email.subject
