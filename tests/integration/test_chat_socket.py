"""The customer chat socket (protocol v1) against a real uvicorn, real Redis and real websocket clients."""

import json
import time

import pytest
from asgiref.sync import async_to_sync
from websockets.exceptions import ConnectionClosed, InvalidStatus

from channels_app.models import ChatSession, ChatState
from tests.chat_support import sign
from tests.integration.chat_clients import chat_connect, console_connect, new_id, recv_until, send
from tests.integration.conftest import session_cookie_for
from tickets.models import Message

pytestmark = pytest.mark.integration


def is_type(kind):
    return lambda f: f.get("type") == kind


def test_customer_and_agent_chat_with_acks_typing_and_read_receipts(asgi_server, widget, online_agent):
    cookie = session_cookie_for(online_agent)

    async def scenario():
        async with chat_connect(asgi_server, widget.public_key) as customer:
            await send(customer, "hello", token=sign(orders=["D1"]))
            session = await recv_until(customer, is_type("session"))
            assert session["state"] == "new" and session["resume_token"]
            await send(customer, "message", client_msg_id="m1", body="付款成功但没收到卡密")
            ack = await recv_until(customer, is_type("ack"))
            assert ack == {"type": "ack", "client_msg_id": "m1", "seq": 1}
            queued = await recv_until(customer, lambda f: f.get("type") == "session" and f["state"] == "queued")
            assert queued["queue_position"] == 1 and queued["agents_available"] is True
            assert isinstance(queued["eta_seconds"], int) and queued["ticket"].startswith("T-")
            own = await recv_until(customer, is_type("message"))
            assert own["seq"] == 1 and own["prev_seq"] == 0 and own["client_msg_id"] == "m1"
            chat = await _session_for(queued["chat"])
            from channels_app import services

            await _sync(services.chat_accept)(session_id=chat.pk, actor=online_agent)
            active = await recv_until(customer, lambda f: f.get("type") == "session" and f["state"] == "active")
            assert active["agent"]["name"] == online_agent.agent_profile.display_name
            async with console_connect(asgi_server, cookie) as agent:
                await send(agent, "watch", ticket=chat.ticket_id)
                assert await recv_until(
                    agent, lambda f: f.get("type") == "presence" and f.get("user") == online_agent.pk
                )
                await send(customer, "typing", state="start")
                typing = await recv_until(agent, lambda f: f.get("type") == "presence" and f.get("kind") == "customer")
                assert typing["state"] == "typing"
                await send(agent, "typing", ticket=chat.ticket_id, state="start")
                assert (await recv_until(customer, is_type("typing")))["state"] == "start"
                await send(agent, "message", ticket=chat.ticket_id, client_msg_id="a1", body="您好，我来查一下")
                agent_ack = await recv_until(agent, is_type("ack"))
                reply = await recv_until(
                    customer, lambda f: f.get("type") == "message" and f["author"]["kind"] == "agent"
                )
                assert reply["seq"] == agent_ack["seq"] and reply["body"] == "您好，我来查一下"
                await send(
                    agent, "message", ticket=chat.ticket_id, client_msg_id="n1", body="内部：先核对支付", internal=True
                )
                await recv_until(agent, lambda f: f.get("type") == "ack" and f["client_msg_id"] == "n1")
                await send(customer, "read", seq=reply["seq"])
                read = await recv_until(agent, lambda f: f.get("type") == "chat.read")
                assert read["side"] == "customer" and read["seq"] == reply["seq"]
                await send(agent, "read", ticket=chat.ticket_id, seq=1)
                assert (await recv_until(customer, is_type("read")))["seq"] == 1
                # The internal note never reaches the customer, and the next public message says what came before it.
                await send(agent, "message", ticket=chat.ticket_id, client_msg_id="a2", body="已补发")
                nxt = await recv_until(customer, lambda f: f.get("type") == "message" and f["seq"] > reply["seq"])
                assert nxt["body"] == "已补发" and nxt["prev_seq"] == reply["seq"]
            await send(customer, "end")
            ended = await recv_until(customer, lambda f: f.get("type") == "session" and f["state"] == "ended")
            assert ended["can_rate"] is True
            await send(customer, "rate", score=4, comment="不错")
            assert (await recv_until(customer, is_type("rated")))["score"] == 4

    async_to_sync(scenario)()
    assert (
        not Message.objects.filter(is_internal=True, body__contains="内部").filter(ticket__chat__isnull=True).exists()
    )


def test_tampered_expired_and_foreign_tokens_are_refused_clearly(asgi_server, widget):
    async def scenario():
        async with chat_connect(asgi_server, widget.public_key) as ws:
            token = sign()
            body, sig = token.split(".")
            tampered = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + sig
            await send(ws, "hello", token=tampered)
            error = await recv_until(ws, is_type("error"))
            assert error["code"] == "token_invalid" and error["field"] == "token"
            await send(ws, "hello", token=sign(exp=int(time.time()) - 3600))
            assert (await recv_until(ws, is_type("error")))["code"] == "token_expired"
            await send(ws, "message", client_msg_id="x", body="hi")
            assert (await recv_until(ws, is_type("error")))["code"] == "hello_first"
            await send(ws, "hello", resume_token="z" * 43)
            assert (await recv_until(ws, is_type("error")))["code"] == "not_found"
            await send(ws, "hello", prechat={"email": "not-an-email"})
            bad = await recv_until(ws, is_type("error"))
            assert bad["code"] == "invalid" and bad["field"] == "email"
            await send(ws, "hello", prechat={"email": "wang@example.com", "name": "王五"})  # still usable
            assert (await recv_until(ws, is_type("session")))["state"] == "new"

    async_to_sync(scenario)()


def test_malformed_oversized_and_too_frequent_frames_get_errors_and_the_socket_stays(asgi_server, widget, online_agent):
    async def scenario():
        async with chat_connect(asgi_server, widget.public_key) as ws:
            await ws.send("not json")
            assert (await recv_until(ws, is_type("error")))["code"] == "malformed"
            await ws.send(json.dumps({"type": "hello", "pad": "x" * 20000}))
            assert (await recv_until(ws, is_type("error")))["code"] == "too_large"
            await send(ws, "bogus")
            assert (await recv_until(ws, is_type("error")))["code"] == "malformed"
            await send(ws, "hello", token=sign())
            await recv_until(ws, is_type("session"))
            await send(ws, "message", client_msg_id="e1", body="")
            empty = await recv_until(ws, is_type("error"))
            assert empty["field"] == "body" and empty["client_msg_id"] == "e1"
            for i in range(40):
                await send(ws, "ping", n=i)
            limited = await recv_until(ws, lambda f: f.get("code") == "rate_limited", timeout=5)
            assert limited is not None
            await ws.recv()  # drain
            time.sleep(1.5)
            await send(ws, "ping")
            assert await recv_until(ws, is_type("pong"), timeout=5)

    async_to_sync(scenario)()


def test_foreign_origins_and_unknown_widgets_are_refused(asgi_server, widget):
    async def scenario(key, origin):
        async with chat_connect(asgi_server, key, origin=origin) as ws:
            await ws.recv()

    for key, origin, code in [(widget.public_key, "https://evil.example.net", 4403), ("pk_nope", None, 4404)]:
        try:
            async_to_sync(scenario)(key, origin)
        except InvalidStatus:
            continue
        except ConnectionClosed as closed:
            assert closed.rcvd.code == code
            continue
        raise AssertionError("connection was accepted")

    async def allowed():
        async with chat_connect(asgi_server, widget.public_key, origin="https://shop.example.com") as ws:
            await send(ws, "ping")
            assert await recv_until(ws, is_type("pong"))

    async_to_sync(allowed)()


def test_resume_replays_missed_messages_in_order_and_duplicates_never_repeat(asgi_server, widget, online_agent):
    from channels_app import services
    from tickets import services as ticket_services

    async def scenario():
        async with chat_connect(asgi_server, widget.public_key) as ws:
            await send(ws, "hello", token=sign())
            token = (await recv_until(ws, is_type("session")))["resume_token"]
            await send(ws, "message", client_msg_id="dup", body="第一条")
            first = await recv_until(ws, is_type("ack"))
            await send(ws, "message", client_msg_id="dup", body="第一条")  # a resend after a timeout
            again = await recv_until(ws, is_type("ack"))
            assert again["seq"] == first["seq"]
        chat = await _session_by_ticket_seq()
        await _sync(services.chat_accept)(session_id=chat.pk, actor=online_agent)
        ticket = chat.ticket
        for i in range(5):  # the desk answers while the customer is away
            await _sync(ticket_services.agent_reply_post)(ticket=ticket, actor=online_agent, body=f"回复 {i}")
        await _sync(ticket_services.internal_note_post)(ticket=ticket, actor=online_agent, body="备注")
        async with chat_connect(asgi_server, widget.public_key) as ws:
            await send(ws, "hello", resume_token=token, resume_after_seq=first["seq"])
            session = await recv_until(ws, is_type("session"))
            assert session["state"] == "active"
            seen = []
            while len(seen) < 6:  # joined line + 5 replies
                frame = await recv_until(ws, is_type("message"), timeout=5)
                assert frame is not None, seen
                seen.append(frame)
            seqs = [f["seq"] for f in seen]
            assert seqs == sorted(seqs) and len(set(seqs)) == 6 and seen[0]["prev_seq"] == first["seq"]
            assert [f["prev_seq"] for f in seen[1:]] == seqs[:-1]
            assert all("备注" not in f["body"] for f in seen)
            # A client that thinks it missed something asks again: the same frames, nothing else.
            await send(ws, "hello", resume_after_seq=seqs[2])
            refill = [await recv_until(ws, is_type("message"), timeout=5) for _ in range(3)]
            assert [f["seq"] for f in refill] == seqs[3:]

    async_to_sync(scenario)()
    assert Message.objects.filter(client_msg_id="dup").count() == 1


@pytest.mark.parametrize("revoke", ["queue_removed", "deactivated"])
def test_a_revoked_agent_stops_receiving_within_two_seconds(
    asgi_server, widget, online_agent, queue, other_queue, revoke
):
    from guardian.shortcuts import assign_perm, remove_perm

    assign_perm("tickets.work_queue", online_agent, other_queue)  # still an agent after losing the chat's queue
    cookie = session_cookie_for(online_agent)

    def do_revoke():
        if revoke == "queue_removed":
            remove_perm("tickets.work_queue", online_agent, queue)
        else:
            type(online_agent).objects.filter(pk=online_agent.pk).update(is_active=False)

    async def scenario():
        async with chat_connect(asgi_server, widget.public_key) as customer:
            await send(customer, "hello", token=sign())
            await recv_until(customer, is_type("session"))
            await send(customer, "message", client_msg_id="r1", body="在吗")
            await recv_until(customer, is_type("ack"))
            chat = await _session_by_ticket_seq()
            async with console_connect(asgi_server, cookie) as agent:
                await send(agent, "watch", ticket=chat.ticket_id)
                await recv_until(agent, lambda f: f.get("type") == "presence")
                await send(customer, "message", client_msg_id="r2", body="能看到吗")
                assert await recv_until(agent, lambda f: f.get("type") == "message.created")  # sees it before
                await _sync(do_revoke)()
                revoked_at = time.monotonic()
                # Events keep flowing to the ticket; within 2 s the revoked agent must stop seeing them.
                leaked_after = None
                closed_after = None
                while time.monotonic() - revoked_at < 4 and closed_after is None:
                    await send(customer, "message", client_msg_id=new_id(), body="还在吗")
                    try:
                        frame = await recv_until(agent, lambda f: f.get("type") == "message.created", timeout=0.4)
                    except ConnectionClosed as closed:
                        assert closed.rcvd.code == 4403
                        closed_after = time.monotonic() - revoked_at
                        break
                    if frame is not None:
                        leaked_after = time.monotonic() - revoked_at
                assert leaked_after is None or leaked_after < 2.0
                if revoke == "deactivated":
                    assert closed_after is not None and closed_after < 2.0
                else:
                    assert closed_after is None  # other queues still work; only this ticket went quiet

    async_to_sync(scenario)()


async def _session_for(chat_id):
    return await _sync(lambda: ChatSession.objects.select_related("ticket").get(pk=chat_id))()


async def _session_by_ticket_seq():
    return await _sync(lambda: ChatSession.objects.select_related("ticket").exclude(state=ChatState.NEW).latest("id"))()


def _sync(fn):
    from asgiref.sync import sync_to_async

    return sync_to_async(fn)
