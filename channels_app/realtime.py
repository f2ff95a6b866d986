"""Chat events, sent after commit through the project's one broadcast helper (helpdesk.realtime).

Groups: the ticket's group (the customer's socket and every agent watching the chat), the queue's group (agent
consoles: the incoming list) and a waiting-room group per queue (customers waiting there: their position).
Events carry ids and states only; each socket reads what it shows from PostgreSQL.
"""

from __future__ import annotations

from helpdesk import realtime


def chat_group(session_id: int) -> str:
    """The customer's sockets of one conversation (before its ticket exists, too)."""
    return f"chat.{session_id}"


def waiting_group(queue_id: int) -> str:
    return f"chatwait.{queue_id}"


def session_changed(session) -> None:
    """The chat's state, agent or queue changed: its customer and its watchers refresh."""
    groups = [chat_group(session.pk)]
    if session.ticket_id:
        groups.append(realtime.ticket_group(session.ticket_id))
    if session.agent_id:
        groups.append(realtime.user_group(session.agent_id))
    if session.queue_id:
        groups.append(realtime.queue_group(session.queue_id))
    realtime.broadcast_on_commit(
        groups,
        {"type": "chat.session", "chat": session.pk, "ticket": session.ticket_id, "state": session.state},
    )


def waiting_changed(queue_id: int | None) -> None:
    """Someone joined or left a queue's waiting room (or agents came and went): positions and ETAs move."""
    if queue_id is None:
        return
    realtime.broadcast_on_commit(
        [waiting_group(queue_id), realtime.queue_group(queue_id)], {"type": "chat.waiting", "queue": queue_id}
    )


def read_changed(session, *, side: str, seq: int) -> None:
    if session.ticket_id:
        realtime.broadcast_on_commit(
            [realtime.ticket_group(session.ticket_id)],
            {"type": "chat.read", "ticket": session.ticket_id, "side": side, "seq": seq},
        )
