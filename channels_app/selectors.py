"""Reads for live chat: the customer's view of their session, the queue's state, the agent's chat lists."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, F, Prefetch, Q, QuerySet

from channels_app.models import ChatSession, ChatState, ChatWidget
from tickets.errors import NotVisible
from tickets.models import AgentProfile, Attachment, Category, Message, Queue
from tickets.permissions import TicketPolicy, User
from tickets.selectors.routing import online_agent_ids
from tickets.services.messages import message_public_payload

# A console socket refreshes presence_changed_at every PRESENCE_HEARTBEAT seconds; older means gone.
PRESENCE_HEARTBEAT_SECONDS = 20
# Without history, assume an agent answers in 30 s and a chat takes 5 minutes.
DEFAULT_ACCEPT_SECONDS = 30
DEFAULT_HANDLE_SECONDS = 300
RECENT_CHATS = 50
REPLAY_LIMIT = 500


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def widget_by_key(public_key: Any) -> ChatWidget | None:
    if not isinstance(public_key, str) or not 3 < len(public_key) <= 40:
        return None
    return (
        ChatWidget.objects.select_related("shop", "queue")
        .filter(public_key=public_key, is_enabled=True, shop__is_active=True)
        .first()
    )


def session_by_resume_token(*, widget: ChatWidget, token: Any) -> ChatSession:
    """The session this bearer token resumes, in this widget's shop. Unknown and foreign answer the same."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise NotVisible("No such conversation.")
    session = (
        ChatSession.objects.select_related("ticket", "customer", "queue", "agent__agent_profile")
        .filter(resume_token_hash=token_hash(token), shop_id=widget.shop_id)
        .first()
    )
    if session is None:
        raise NotVisible("No such conversation.")
    return session


def session_get(session_id: int) -> ChatSession:
    return ChatSession.objects.select_related("ticket", "customer", "queue", "agent__agent_profile", "shop").get(
        pk=session_id
    )


# --- routing ------------------------------------------------------------------------------------------


def category_for_topic(topic: str) -> Category | None:
    if not topic:
        return None
    return Category.objects.filter(slug=topic, is_active=True).select_related("default_queue").first()


def chat_queue_for(widget: ChatWidget, category: Category | None) -> Queue | None:
    """The queue a new chat waits in: the topic's category queue, else the widget's, else any serving the shop."""
    if category is not None and category.default_queue_id and category.default_queue.is_active:
        return category.default_queue
    if widget.queue_id and widget.queue.is_active:
        return widget.queue
    return Queue.objects.filter(is_active=True).filter(Q(shop__isnull=True) | Q(shop_id=widget.shop_id)).first()


# --- queue state --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueStatus:
    position: int | None  # 1 = next; None when not waiting
    eta_seconds: int | None  # None when unknown or nobody is available
    agents_available: bool


def available_agent_ids(queue: Queue | None) -> list[int]:
    """Active users granted this queue whose console is online (heartbeat seen lately), not away: the same
    answer routing uses (tickets.selectors.routing)."""
    return online_agent_ids(queue)


def free_capacity(agent_ids: list[int]) -> int:
    if not agent_ids:
        return 0
    profiles = AgentProfile.objects.filter(user_id__in=agent_ids).annotate(
        active=Count("user__chat_sessions", filter=Q(user__chat_sessions__state=ChatState.ACTIVE))
    )
    return sum(max(0, p.max_concurrent_chats - p.active) for p in profiles)


def queue_status(session: ChatSession) -> QueueStatus:
    """Position among those waiting in the same queue, and a wait estimate from the queue's recent chats.

    ETA: when free seats (agents online × capacity − active chats) cover everyone ahead, the typical time to
    accept; otherwise each agent must finish (position − free seats) chats first, at the recent handling time.
    """
    queue = session.queue
    if session.state == ChatState.NEW:  # not in a queue yet: would anyone answer if they wrote now?
        widget = ChatWidget.objects.select_related("queue").filter(shop_id=session.shop_id).first()
        queue = chat_queue_for(widget, category_for_topic(session.topic)) if widget else None
    agents = available_agent_ids(queue)
    if session.state != ChatState.QUEUED:
        return QueueStatus(None, None, bool(agents))
    position = (
        ChatSession.objects.filter(state=ChatState.QUEUED, queue_id=session.queue_id)
        .filter(Q(queued_at__lt=session.queued_at) | Q(queued_at=session.queued_at, id__lte=session.pk))
        .count()
    )
    if not agents:
        return QueueStatus(position, None, False)
    recent = (
        ChatSession.objects.filter(queue_id=session.queue_id, accepted_at__isnull=False, ended_at__isnull=False)
        .order_by("-ended_at")
        .values("pk")[:RECENT_CHATS]
    )
    stats = ChatSession.objects.filter(pk__in=recent).aggregate(
        wait=Avg(F("accepted_at") - F("queued_at")), handle=Avg(F("ended_at") - F("accepted_at"))
    )
    accept = stats["wait"].total_seconds() if stats["wait"] else DEFAULT_ACCEPT_SECONDS
    handle = stats["handle"].total_seconds() if stats["handle"] else DEFAULT_HANDLE_SECONDS
    seats = free_capacity(agents)
    eta = accept if position <= seats else accept + math.ceil((position - seats) / len(agents)) * handle
    return QueueStatus(position, round(eta), True)


# --- messages -----------------------------------------------------------------------------------------


def public_messages_after(ticket_id: int, after_seq: int, *, limit: int = REPLAY_LIMIT) -> list[dict[str, Any]]:
    """The customer-visible messages after `after_seq`, oldest first, as protocol payloads with prev_seq."""
    after_seq = max(0, int(after_seq))
    rows = list(
        Message.objects.filter(ticket_id=ticket_id, is_internal=False, seq__gt=after_seq)
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("seq")[:limit]
    )
    if not rows:
        return []
    prev = (
        Message.objects.filter(ticket_id=ticket_id, is_internal=False, seq__lte=after_seq)
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
    ) or 0
    payloads = []
    for message in rows:
        message.attachment_list = list(message.attachments.all())
        payloads.append(message_public_payload(message, prev_seq=prev))
        prev = message.seq
    return payloads


def last_public_seq(ticket_id: int) -> int:
    from tickets.models import Ticket

    return Ticket.objects.filter(pk=ticket_id).values_list("last_public_seq", flat=True).first() or 0


# --- the agent's side ---------------------------------------------------------------------------------


def _visible_sessions(user: User) -> QuerySet[ChatSession]:
    scope = TicketPolicy.scope(user)
    sessions = ChatSession.objects.select_related("ticket", "customer", "queue", "agent", "ticket__order")
    if scope.is_supervisor:
        return sessions
    if scope.user_id is None:
        return sessions.none()
    return sessions.filter(Q(queue_id__in=scope.queue_ids) | Q(agent_id=scope.user_id))


def incoming_chats_for(user: User, *, limit: int = 50) -> list[ChatSession]:
    """Chats waiting in the queues this user works, oldest first (the order they should be taken)."""
    return list(_visible_sessions(user).filter(state=ChatState.QUEUED).order_by("queued_at", "id")[:limit])


def active_chats_for(user: User) -> list[ChatSession]:
    return list(
        ChatSession.objects.select_related("ticket", "customer", "queue", "ticket__order")
        .filter(state=ChatState.ACTIVE, agent_id=getattr(user, "pk", None))
        .order_by("accepted_at", "id")
    )


def active_chat_count(user_id: int) -> int:
    return ChatSession.objects.filter(state=ChatState.ACTIVE, agent_id=user_id).count()


def chat_for_agent(user: User, session_id: int) -> ChatSession:
    """One chat the user may work on (its ticket visible to them), else NotVisible."""
    session = _visible_sessions(user).filter(pk=session_id).first()
    if session is None or session.ticket is None or not TicketPolicy.can_view(user, session.ticket):
        raise NotVisible("No such chat.")
    return session


def transfer_targets(session: ChatSession) -> dict[str, list]:
    """Agents online in the chat's queue (not the current one) and the active queues serving its shop."""
    agent_ids = [pk for pk in available_agent_ids(session.queue) if pk != session.agent_id]
    agents = list(
        get_user_model().objects.filter(pk__in=agent_ids).select_related("agent_profile").order_by("username")
    )
    queues = list(Queue.objects.filter(is_active=True).filter(Q(shop__isnull=True) | Q(shop_id=session.shop_id)))
    return {"agents": agents, "queues": queues}
