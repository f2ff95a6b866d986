"""The desk's side of a chat: presence, accept, transfer, end.

Permission questions go to TicketPolicy (via the chat's ticket); capacity is the agent's max_concurrent_chats.
Accepting locks the session row, so two agents clicking at once get one winner and one clear refusal.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from channels_app.models import ChatSession, ChatState, ChatTransfer, EndReason
from channels_app.realtime import session_changed, waiting_changed
from channels_app.selectors import active_chat_count
from channels_app.services.sessions import _end, _lock
from helpdesk import context, realtime
from helpdesk.audit import audit_record
from tickets.errors import InvalidInput, InvalidTransition, NotAllowed, NotVisible
from tickets.models import AgentProfile, Presence, Queue
from tickets.permissions import TicketPolicy
from tickets.selectors.routing import routing_candidates
from tickets.services.messages import _author_name, internal_note_post, system_message_append
from tickets.services.tickets import ticket_assign, ticket_update


class CapacityReached(NotAllowed):
    code = "capacity"


def _profile(user: AbstractBaseUser) -> AgentProfile:
    profile = AgentProfile.objects.filter(user_id=user.pk).first()
    if profile is None:
        profile = AgentProfile.objects.create(user=user, display_name=user.get_username())
    return profile


def _agent_session(session_id: int, actor: AbstractBaseUser) -> ChatSession:
    """Lock the chat and check the actor may work it; hidden chats answer NotVisible."""
    session = _lock(session_id)
    if session.ticket_id is None or not TicketPolicy.can_view(actor, session.ticket):
        raise NotVisible("No such chat.")
    return session


def _check_capacity(agent: AbstractBaseUser) -> None:
    # Serialise this agent's accepts: lock their profile row, then count (two tabs cannot both take the last seat).
    profile = AgentProfile.objects.select_for_update().filter(user_id=agent.pk).first() or _profile(agent)
    if active_chat_count(agent.pk) >= profile.max_concurrent_chats:
        raise CapacityReached(
            _("%(agent)s already has %(count)s chats, the most they take at once.")
            % {"agent": _author_name(agent, agent.get_username()), "count": profile.max_concurrent_chats}
        )


@transaction.atomic
def chat_accept(*, session_id: int, actor: AbstractBaseUser) -> ChatSession:
    """Take a waiting chat: it becomes active with the actor as agent (and the ticket's assignee)."""
    session = _agent_session(session_id, actor)
    if not TicketPolicy.can_work(actor, session.ticket):
        raise NotAllowed(_("You do not work this chat's queue."))
    if session.state != ChatState.QUEUED:
        raise InvalidTransition(
            _("This chat is no longer waiting (%(state)s).") % {"state": ChatState(session.state).label}
        )
    _check_capacity(actor)
    session.state = ChatState.ACTIVE
    session.agent = actor
    session.accepted_at = timezone.now()
    session.save(update_fields=["state", "agent", "accepted_at"])
    ticket_assign(ticket=session.ticket, actor=actor, assignee=actor)
    with override(session.language):
        system_message_append(
            session.ticket, _("%(agent)s joined the chat.") % {"agent": _author_name(actor, "Agent")}, internal=False
        )
    audit_record(actor=actor, action="chat.accept", obj=session, changes={"state": ["queued", "active"]})
    session_changed(session)
    waiting_changed(session.queue_id)
    return session


@transaction.atomic
def chat_auto_assign(*, session_id: int) -> ChatSession | None:
    """Routing for chats (queues with "assign automatically"): the least-loaded online agent of the queue with
    a free chat seat takes the waiting chat, as if they had accepted it. None when nobody has a seat."""
    session = _lock(session_id)
    if session.state != ChatState.QUEUED or session.queue_id is None or not session.queue.auto_assign:
        return None
    for candidate in routing_candidates(session.queue, chat=True):
        try:
            _check_capacity(candidate.user)
        except CapacityReached:
            continue  # took another chat meanwhile
        agent = candidate.user
        session.state = ChatState.ACTIVE
        session.agent = agent
        session.accepted_at = timezone.now()
        session.save(update_fields=["state", "agent", "accepted_at"])
        with context.bound(actor_label="routing"):
            ticket_assign(ticket=session.ticket, actor=None, assignee=agent)
            with override(session.language):
                system_message_append(
                    session.ticket, _("%(agent)s joined the chat.") % {"agent": _author_name(agent, "Agent")},
                    internal=False,
                )  # fmt: skip
            audit_record(
                actor=None, action="chat.auto_assign", obj=session,
                changes={"state": ["queued", "active"], "agent": agent.pk},
            )  # fmt: skip
        AgentProfile.objects.filter(pk=candidate.pk).update(last_routed_at=timezone.now())
        session_changed(session)
        waiting_changed(session.queue_id)
        return session
    return None


@transaction.atomic
def chat_transfer(
    *,
    session_id: int,
    actor: AbstractBaseUser,
    to_agent: AbstractBaseUser | None = None,
    to_queue: Queue | None = None,
    note: str = "",
) -> ChatSession:
    """Hand an active chat to another agent (who must work its queue and have a free seat) or back to a queue."""
    if (to_agent is None) == (to_queue is None):
        raise InvalidInput(_("Choose an agent or a queue to transfer to."), field="to")
    session = _agent_session(session_id, actor)
    if not TicketPolicy.can_reply(actor, session.ticket):
        raise NotAllowed(_("You may not transfer this chat."))
    if session.state != ChatState.ACTIVE:
        raise InvalidTransition(_("Only an active chat can be transferred."), field="to")
    from_agent = session.agent
    ticket = session.ticket
    if to_agent is not None:
        if to_agent.pk == session.agent_id:
            raise InvalidInput(_("The chat is already with this agent."), field="to")
        if not TicketPolicy.can_work(to_agent, ticket):
            raise NotAllowed(_("%(agent)s does not work this chat's queue.") % {"agent": to_agent.get_username()})
        _check_capacity(to_agent)
        session.agent = to_agent
        session.accepted_at = timezone.now()
        session.save(update_fields=["agent", "accepted_at"])
        ticket_assign(ticket=ticket, actor=actor, assignee=to_agent)
        with override(session.language):
            line = _("The chat was transferred to %(agent)s.") % {"agent": _author_name(to_agent, "Agent")}
    else:
        if not to_queue.is_active or to_queue.shop_id not in (None, session.shop_id):
            raise InvalidInput(_("That queue does not serve this shop."), field="to")
        ticket_update(ticket=ticket, actor=actor, queue=to_queue)
        ticket_assign(ticket=ticket, actor=actor, assignee=None)
        old_queue = session.queue_id
        session.state = ChatState.QUEUED
        session.agent = None
        session.accepted_at = None
        session.queue = to_queue
        session.queued_at = timezone.now()
        session.save(update_fields=["state", "agent", "accepted_at", "queue", "queued_at"])
        waiting_changed(old_queue)
        waiting_changed(to_queue.pk)
        with override(session.language):
            line = _("The chat was transferred to the %(queue)s team.") % {"queue": to_queue.name}
    note = (note or "").strip()
    if note:
        internal_note_post(ticket=ticket, actor=actor, body=note)
    ChatTransfer.objects.create(
        session=session, actor=actor, from_agent=from_agent, to_agent=to_agent, to_queue=to_queue, note=note[:2000]
    )
    system_message_append(ticket, line, internal=False)
    audit_record(
        actor=actor,
        action="chat.transfer",
        obj=session,
        changes={"from": getattr(from_agent, "pk", None), "to_agent": getattr(to_agent, "pk", None),
                 "to_queue": getattr(to_queue, "pk", None), "note": bool(note)},
    )  # fmt: skip
    session_changed(session)
    if from_agent is not None:
        realtime.broadcast_on_commit(
            [realtime.user_group(from_agent.pk)],
            {"type": "chat.session", "chat": session.pk, "ticket": session.ticket_id, "state": session.state},
        )
    return session


@transaction.atomic
def chat_end_by_agent(*, session_id: int, actor: AbstractBaseUser) -> ChatSession:
    session = _agent_session(session_id, actor)
    if not TicketPolicy.can_reply(actor, session.ticket):
        raise NotAllowed(_("You may not end this chat."))
    if session.state not in {ChatState.ACTIVE, ChatState.QUEUED}:
        raise InvalidTransition(_("This chat has already ended."))
    return _end(session, reason=EndReason.AGENT, actor=actor)


@transaction.atomic
def agent_presence_set(*, actor: AbstractBaseUser, presence: str, heartbeat: bool = False) -> AgentProfile:
    """Online / away / offline. A heartbeat only refreshes the time; changes are audited and move ETAs."""
    if presence not in Presence.values:
        raise InvalidInput(_("Unknown presence %(value)s.") % {"value": repr(presence)}, field="presence")
    profile = AgentProfile.objects.select_for_update().filter(user_id=actor.pk).first() or _profile(actor)
    now = timezone.now()
    changed = profile.presence != presence
    if not changed and heartbeat:
        AgentProfile.objects.filter(pk=profile.pk).update(presence_changed_at=now)
        return profile
    before = profile.presence
    profile.presence = presence
    profile.presence_changed_at = now
    profile.save(update_fields=["presence", "presence_changed_at", "updated_at"])
    if changed:
        audit_record(actor=actor, action="agent.presence", obj=profile, changes={"presence": [before, presence]})
        for queue_id in TicketPolicy.scope(actor).queue_ids:
            waiting_changed(queue_id)
    return profile
