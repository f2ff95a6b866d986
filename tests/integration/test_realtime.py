"""Broadcasts go through the real Redis channel layer, only after the transaction commits."""

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from helpdesk import realtime
from tests.factories import make_ticket
from tickets import services


def listen_while(group: str, action, timeout: float = 2.0):
    """Subscribe to a group, run the (sync) action, return the first event received or None."""

    async def run():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        try:
            await sync_to_async(action)()
            try:
                return await asyncio.wait_for(layer.receive(channel), timeout)
            except TimeoutError:
                return None
        finally:
            await layer.group_discard(group, channel)

    return async_to_sync(run)()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_message_event_is_published_after_commit(shop, queue, agent):
    ticket = make_ticket(shop=shop, queue=queue)
    message = listen_while(
        realtime.ticket_group(ticket.pk),
        lambda: services.agent_reply_post(ticket=ticket, actor=agent, body="已补发卡密"),
    )
    assert message is not None and message["type"] == "carddesk.event"
    event = dict(message["event"])
    payload = event.pop("message")
    assert event == {
        "type": "message.created",
        "ticket": ticket.pk,
        "seq": 2,
        "internal": False,
        "author_kind": "agent",
        "prev_public_seq": 1,
    }
    # Public messages carry their committed payload, so live chat clients need no query.
    assert payload["seq"] == 2 and payload["prev_seq"] == 1 and payload["author"]["kind"] == "agent"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_nothing_is_published_when_the_transaction_rolls_back(shop, queue, agent):
    ticket = make_ticket(shop=shop, queue=queue)

    class Boom(Exception):
        pass

    def post_then_fail():
        with pytest.raises(Boom), transaction.atomic():
            services.agent_reply_post(ticket=ticket, actor=agent, body="不会发出")
            raise Boom

    assert listen_while(realtime.ticket_group(ticket.pk), post_then_fail, timeout=1.0) is None
    ticket.refresh_from_db()
    assert ticket.last_seq == 1
