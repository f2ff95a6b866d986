"""Reads for routing: who works a queue and is online now, and how loaded each one is (per channel)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone
from guardian.shortcuts import get_users_with_perms

from tickets.models import AgentProfile, Presence, Queue, Ticket
from tickets.models.tickets import UNSOLVED_Q

# A console that has not sent its heartbeat for this long is offline, whatever its last presence said.
PRESENCE_STALE_SECONDS = 70


def online_agent_ids(queue: Queue | None) -> list[int]:
    """Active users granted this queue whose console is online (heartbeat seen lately), not away."""
    if queue is None:
        return []
    users = get_users_with_perms(queue, only_with_perms_in=["work_queue"], with_group_users=True)
    fresh = timezone.now() - timedelta(seconds=PRESENCE_STALE_SECONDS)
    return list(
        AgentProfile.objects.filter(
            user__in=users.filter(is_active=True), presence=Presence.ONLINE, presence_changed_at__gte=fresh
        ).values_list("user_id", flat=True)
    )


def agent_loads(agent_ids: list[int], *, chat: bool) -> dict[int, int]:
    """Unsolved tickets assigned to each agent: live chats when `chat`, everything else otherwise."""
    if not agent_ids:
        return {}
    rows = (
        Ticket.objects.filter(UNSOLVED_Q, assignee_id__in=agent_ids, live_chat=chat)
        .values("assignee_id")
        .annotate(n=Count("id"))
    )
    loads = dict.fromkeys(agent_ids, 0)
    loads.update({r["assignee_id"]: r["n"] for r in rows})
    return loads


def routing_candidates(
    queue: Queue, *, chat: bool = False, skills: list[str] | None = None, include_full: bool = False
) -> list[AgentProfile]:
    """Online agents of the queue with the needed skills and a free seat (any seat with `include_full`), least
    loaded first; equals in round-robin order (routed to longest ago first). Profiles carry `load`, `capacity`."""
    needed = set(queue.skills) | set(skills or ())
    profiles = [
        p
        for p in AgentProfile.objects.filter(user_id__in=online_agent_ids(queue)).select_related("user")
        if needed <= set(p.skills)
    ]
    loads = agent_loads([p.user_id for p in profiles], chat=chat)
    for p in profiles:
        p.load = loads[p.user_id]
        p.capacity = p.max_concurrent_chats if chat else p.max_open_tickets
    free = [p for p in profiles if include_full or p.load < p.capacity]
    epoch = timezone.now() - timedelta(days=36500)
    return sorted(free, key=lambda p: (p.load, p.last_routed_at or epoch, p.user_id))


def queue_waiting_count(queue: Queue) -> int:
    """Unassigned unsolved tickets waiting in the queue (the overflow threshold's measure)."""
    return Ticket.objects.filter(UNSOLVED_Q, queue=queue, assignee__isnull=True).count()


__all__ = ["PRESENCE_STALE_SECONDS", "agent_loads", "online_agent_ids", "queue_waiting_count", "routing_candidates"]
