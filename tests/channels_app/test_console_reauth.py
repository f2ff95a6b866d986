"""The console socket's periodic re-authorisation (ConsoleConsumer._reauthorise), against PostgreSQL.

It reads the watched tickets' policy columns with a written-out statement and asks TicketPolicy.can_view of
each row, so these tests pin that it agrees with the policy: kept while visible, dropped once not.
"""

from channels_app.consumers.console import ConsoleConsumer
from tests.factories import make_agent, make_ticket
from tickets.models import Ticket
from tickets.permissions import TicketPolicy


def _consumer(user, watching):
    consumer = ConsoleConsumer()
    consumer.user = user
    consumer.watching = set(watching)
    consumer.groups_joined = set(ConsoleConsumer._groups_for(user))
    consumer.fingerprint = TicketPolicy.grants_fingerprint(user.pk)
    return consumer


def test_visible_watched_tickets_stay_and_hidden_ones_are_dropped(shop, queue, other_queue):
    agent = make_agent(queue)
    mine = make_ticket(shop=shop, queue=queue)
    elsewhere = make_ticket(shop=shop, queue=other_queue)
    assigned = make_ticket(shop=shop, queue=other_queue)
    Ticket.objects.filter(pk=assigned.pk).update(assignee=agent)  # the assignee sees it outside their queues

    user, groups, visible = _consumer(agent, {mine.pk, elsewhere.pk, assigned.pk})._reauthorise()

    assert user == agent and sorted(groups) == sorted(ConsoleConsumer._groups_for(agent))
    assert visible == {mine.pk, assigned.pk}
    assert visible == set(
        TicketPolicy.visible_to(agent, Ticket.objects.filter(pk__in=[mine.pk, elsewhere.pk, assigned.pk])).values_list(
            "pk", flat=True
        )
    )


def test_a_ticket_moved_out_of_the_agents_queue_is_dropped(shop, queue, other_queue):
    agent = make_agent(queue)
    ticket = make_ticket(shop=shop, queue=queue)
    consumer = _consumer(agent, {ticket.pk})
    assert consumer._reauthorise()[2] == {ticket.pk}

    Ticket.objects.filter(pk=ticket.pk).update(queue=other_queue)

    assert consumer._reauthorise()[2] == set()


def test_a_deleted_user_gets_no_groups(shop, queue):
    agent = make_agent(queue)
    consumer = _consumer(agent, {make_ticket(shop=shop, queue=queue).pk})
    type(agent).objects.filter(pk=agent.pk).delete()

    assert consumer._reauthorise() == (None, None, set())
