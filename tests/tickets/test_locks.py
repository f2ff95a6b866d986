"""tickets.locks: the written-out row lock every ticket write starts with, and the services that take an id."""

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.forms.models import model_to_dict

from tests.factories import make_agent, make_ticket
from tickets import services
from tickets.errors import NotVisible
from tickets.locks import lock_ticket, lock_tickets
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def test_the_locked_row_is_the_whole_ticket(shop, queue):
    ticket = make_ticket(shop=shop, queue=queue)
    with transaction.atomic():
        locked = lock_ticket(ticket.pk)
    assert model_to_dict(locked) == model_to_dict(Ticket.objects.get(pk=ticket.pk))
    assert locked._state.adding is False and locked._state.db == "default"


def test_several_tickets_in_id_order_and_missing_ones_refused(shop, queue):
    a, b = make_ticket(shop=shop, queue=queue), make_ticket(shop=shop, queue=queue)
    with transaction.atomic():
        assert list(lock_tickets(b.pk, a.pk, b.pk)) == sorted([a.pk, b.pk])
        with pytest.raises(Ticket.DoesNotExist):
            lock_ticket(max(a.pk, b.pk) + 1000)


@pytest.mark.django_db(transaction=True)  # the test's own transaction would hide the autocommit
def test_a_lock_outside_a_transaction_is_a_bug(shop, queue):
    with pytest.raises(TransactionManagementError):
        lock_ticket(make_ticket(shop=shop, queue=queue).pk)


def test_posting_by_id_asks_the_policy_of_the_locked_row(shop, queue, other_queue):
    ticket = make_ticket(shop=shop, queue=queue)
    outsider = make_agent(other_queue)
    with pytest.raises(NotVisible):
        services.agent_reply_post(ticket=ticket.pk, actor=outsider, body="不该发出")
    with pytest.raises(NotVisible):
        services.agent_reply_post(ticket=ticket.pk + 1000, actor=outsider, body="没有这张工单")
    assert not Message.objects.filter(ticket=ticket, body__contains="不该发出").exists()

    agent = make_agent(queue)
    posted = services.agent_reply_post(ticket=ticket.pk, actor=agent, body="已为您补发卡密", client_msg_id="c1")
    again = services.agent_reply_post(ticket=ticket.pk, actor=agent, body="已为您补发卡密", client_msg_id="c1")
    assert posted.created and not again.created and again.message.pk == posted.message.pk
