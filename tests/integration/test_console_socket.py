"""The console websocket against a real uvicorn process, with real websocket clients."""

import asyncio
import json

import pytest
import websockets
from asgiref.sync import async_to_sync, sync_to_async
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.factories import make_agent, make_ticket
from tests.integration.conftest import session_cookie_for
from tickets import services


async def _recv_until(ws, predicate, timeout: float = 10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return None
        try:
            frame = json.loads(await asyncio.wait_for(ws.recv(), remaining))
        except TimeoutError:
            return None
        if predicate(frame):
            return frame


def _connect(server, cookie: str):
    return websockets.connect(
        f"{server.ws_url}/ws/console/",
        additional_headers={"Cookie": f"sessionid={cookie}", "Origin": server.url},
    )


@pytest.mark.integration
def test_agents_get_message_events_and_see_each_other(asgi_server, shop, queue):
    ticket = make_ticket(shop=shop, queue=queue)
    alice = make_agent(queue, username="alice")
    bob = make_agent(queue, username="bob")
    alice_cookie, bob_cookie = session_cookie_for(alice), session_cookie_for(bob)

    async def scenario():
        async with _connect(asgi_server, alice_cookie) as a, _connect(asgi_server, bob_cookie) as b:
            await a.send(json.dumps({"type": "watch", "ticket": ticket.pk}))
            await b.send(json.dumps({"type": "watch", "ticket": ticket.pk}))
            seen_by_a = await _recv_until(a, lambda f: f.get("type") == "presence" and f.get("name") == "Bob")
            assert seen_by_a and seen_by_a["state"] == "viewing"
            # The newcomer hears who was already there (an answer sent to its socket alone).
            seen_by_b = await _recv_until(b, lambda f: f.get("type") == "presence" and f.get("name") == "Alice")
            assert seen_by_b and seen_by_b["state"] == "viewing" and "reply_to" not in seen_by_b
            await b.send(json.dumps({"type": "typing", "ticket": ticket.pk, "state": "start"}))
            typing = await _recv_until(a, lambda f: f.get("type") == "presence" and f.get("state") == "typing")
            assert typing and typing["user"] == bob.pk
            await sync_to_async(services.agent_reply_post)(ticket=ticket, actor=bob, body="已补发")
            event = await _recv_until(a, lambda f: f.get("type") == "message.created", timeout=15)
            message = event.pop("message")
            assert event == {"type": "message.created", "ticket": ticket.pk, "seq": 2, "internal": False,
                             "author_kind": "agent", "prev_public_seq": 1}  # fmt: skip
            assert message["seq"] == 2 and message["prev_seq"] == 1 and message["body"] == "已补发"

    async_to_sync(scenario)()


@pytest.mark.integration
def test_hidden_tickets_cannot_be_watched_and_outsiders_get_no_events(asgi_server, shop, queue, other_queue):
    ticket = make_ticket(shop=shop, queue=queue)
    outsider = make_agent(other_queue, username="outsider")
    insider = make_agent(queue, username="insider")
    cookie = session_cookie_for(outsider)

    async def scenario():
        async with _connect(asgi_server, cookie) as ws:
            await ws.send(json.dumps({"type": "watch", "ticket": ticket.pk}))
            error = await _recv_until(ws, lambda f: f.get("type") == "error")
            assert error == {"type": "error", "code": "not_found", "message": "No such ticket."}
            await ws.send(json.dumps({"type": "watch", "ticket": 999999}))
            missing = await _recv_until(ws, lambda f: f.get("type") == "error")
            assert missing == error  # hidden and missing look the same
            await sync_to_async(services.agent_reply_post)(ticket=ticket, actor=insider, body="内部处理中")
            assert await _recv_until(ws, lambda f: f.get("ticket") == ticket.pk, timeout=1.5) is None
            await ws.send("not json")
            bad = await _recv_until(ws, lambda f: f.get("type") == "error")
            assert bad["code"] == "malformed"
            await ws.send(json.dumps({"type": "watch", "ticket": "x" * 5000}))
            assert (await _recv_until(ws, lambda f: f.get("type") == "error"))["code"] == "malformed"
            await ws.send(json.dumps({"type": "watch", "ticket": 999999}))  # still usable
            assert (await _recv_until(ws, lambda f: f.get("type") == "error"))["code"] == "not_found"

    async_to_sync(scenario)()


@pytest.mark.integration
def test_anonymous_and_customers_are_refused(asgi_server):
    async def scenario():
        with pytest.raises(InvalidStatus):
            async with websockets.connect(
                f"{asgi_server.ws_url}/ws/console/", additional_headers={"Origin": asgi_server.url}
            ) as ws:
                await ws.recv()

    try:
        async_to_sync(scenario)()
    except ConnectionClosed as closed:
        assert closed.rcvd.code == 4403


@pytest.mark.integration
def test_a_newcomer_hears_who_was_already_viewing(asgi_server, shop, queue):
    """Viewers already on the ticket answer a newcomer's "viewing" on its socket alone (not to everyone)."""
    ticket = make_ticket(shop=shop, queue=queue)
    alice = make_agent(queue, username="alice")
    bob = make_agent(queue, username="bob")
    alice_cookie, bob_cookie = session_cookie_for(alice), session_cookie_for(bob)

    async def scenario():
        async with _connect(asgi_server, alice_cookie) as a:
            await a.send(json.dumps({"type": "watch", "ticket": ticket.pk}))
            assert await _recv_until(a, lambda f: f.get("type") == "presence" and f.get("name") == "Alice")
            async with _connect(asgi_server, bob_cookie) as b:
                await b.send(json.dumps({"type": "watch", "ticket": ticket.pk}))
                answer = await _recv_until(b, lambda f: f.get("type") == "presence" and f.get("name") == "Alice")
                assert answer is not None and answer["reply"] is True and "reply_to" not in answer
                # Alice hears Bob once, and no answer of hers comes back to her.
                assert await _recv_until(a, lambda f: f.get("name") == "Bob")
                assert await _recv_until(a, lambda f: f.get("reply"), timeout=1.5) is None

    async_to_sync(scenario)()
