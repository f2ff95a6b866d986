"""ticket_assign: who may assign, who may be assigned, what is audited, and how racing assignments end."""

import itertools
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from helpdesk import realtime
from helpdesk.audit import audit_chain_verify
from helpdesk.models import AuditEvent
from helpdesk.roles import Role
from tests.factories import make_agent, make_merchant, make_ticket, make_user
from tickets import services
from tickets.errors import NotAllowed, NotVisible
from tickets.models import Status, Ticket

User = get_user_model()


def _assign_events(ticket: Ticket) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="ticket.assign", object_id=str(ticket.pk)).order_by("id"))


def _state(ticket: Ticket) -> tuple:
    row = Ticket.objects.get(pk=ticket.pk)
    return row.assignee_id, row.status, row.updated_at


@pytest.mark.django_db
def test_assigning_an_agent_of_the_queue_opens_a_new_ticket_and_audits_before_and_after(ticket, agent):
    result = services.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    assert (result.assignee_id, result.status) == (agent.pk, Status.OPEN)
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.status) == (agent.pk, Status.OPEN)
    [event] = _assign_events(ticket)
    assert event.changes == {"assignee": [None, agent.pk], "status": ["new", "open"]}
    assert (event.actor_id, event.object_type) == (agent.pk, "tickets.ticket")
    assert audit_chain_verify().ok


@pytest.mark.django_db
def test_agent_may_assign_a_colleague_of_the_same_queue(ticket, agent, queue):
    colleague = make_agent(queue, username="agent-b")
    services.ticket_assign(ticket=ticket, actor=agent, assignee=colleague)
    ticket.refresh_from_db()
    assert ticket.assignee_id == colleague.pk
    assert _assign_events(ticket)[0].actor_id == agent.pk


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Status.PENDING, Status.ON_HOLD, Status.SOLVED])
def test_assigning_a_ticket_past_new_keeps_its_status(ticket, agent, status):
    services.ticket_change_status(ticket=ticket, actor=agent, status=status)
    services.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.status) == (agent.pk, status)


@pytest.mark.django_db
def test_reassigning_records_the_previous_and_the_new_assignee(ticket, agent, queue):
    colleague = make_agent(queue, username="agent-b")
    services.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    services.ticket_assign(ticket=ticket, actor=agent, assignee=colleague)
    assert [e.changes for e in _assign_events(ticket)] == [
        {"assignee": [None, agent.pk], "status": ["new", "open"]},
        {"assignee": [agent.pk, colleague.pk]},
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("actor_name", ["agent", "supervisor", "system"])
def test_assignee_who_does_not_work_the_queue_is_refused_and_nothing_changes(
    ticket, agent, supervisor, other_queue, actor_name
):
    actor = {"agent": agent, "supervisor": supervisor, "system": None}[actor_name]
    stranger = make_agent(other_queue, username="stranger")
    before = _state(ticket)
    with pytest.raises(NotAllowed):
        services.ticket_assign(ticket=ticket, actor=actor, assignee=stranger)
    assert _state(ticket) == before
    assert _assign_events(ticket) == []


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.MERCHANT, Role.CUSTOMER, None])
def test_users_without_a_queue_cannot_be_assigned(ticket, supervisor, role):
    user = make_merchant(ticket.shop, username="m") if role == Role.MERCHANT else make_user(role, username="u")
    with pytest.raises(NotAllowed):
        services.ticket_assign(ticket=ticket, actor=supervisor, assignee=user)
    assert _state(ticket)[0] is None


@pytest.mark.django_db
def test_an_inactive_agent_of_the_queue_cannot_be_assigned(ticket, supervisor, queue):
    retired = make_agent(queue, username="retired")
    retired.is_active = False
    retired.save(update_fields=["is_active"])
    with pytest.raises(NotAllowed):
        services.ticket_assign(ticket=ticket, actor=supervisor, assignee=retired)
    assert _state(ticket)[0] is None


@pytest.mark.django_db
def test_unassigning_with_none_clears_the_assignee_and_keeps_the_status(ticket, agent):
    services.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    result = services.ticket_assign(ticket=ticket, actor=agent, assignee=None)
    assert result.assignee_id is None
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.status) == (None, Status.OPEN)
    assert _assign_events(ticket)[-1].changes == {"assignee": [agent.pk, None]}


@pytest.mark.django_db
def test_reassigning_the_same_user_is_a_noop_without_audit_event(ticket, agent):
    services.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    before = _state(ticket)
    result = services.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    assert result.assignee_id == agent.pk
    assert _state(ticket) == before
    assert len(_assign_events(ticket)) == 1


@pytest.mark.django_db
def test_unassigning_an_unassigned_ticket_is_a_noop_that_keeps_it_new(ticket, agent):
    before = _state(ticket)
    services.ticket_assign(ticket=ticket, actor=agent, assignee=None)
    assert _state(ticket) == before
    assert _state(ticket)[1] == Status.NEW
    assert _assign_events(ticket) == []


@pytest.mark.django_db
def test_supervisor_may_assign_anyone_who_can_work_the_ticket(ticket, agent, supervisor):
    """An agent of the queue, another supervisor (who works every queue) and the supervisor themselves."""
    other_supervisor = make_user(Role.SUPERVISOR, username="boss-2")
    for assignee in (agent, other_supervisor, supervisor):
        services.ticket_assign(ticket=ticket, actor=supervisor, assignee=assignee)
        assert Ticket.objects.get(pk=ticket.pk).assignee_id == assignee.pk
    assert [e.changes["assignee"][1] for e in _assign_events(ticket)] == [
        agent.pk,
        other_supervisor.pk,
        supervisor.pk,
    ]


@pytest.mark.django_db
def test_supervisor_may_assign_a_ticket_without_queue_only_to_supervisors(shop, supervisor, queue):
    """No queue means no agent works it; a supervisor still can."""
    ticket = make_ticket(shop=shop, queue=None)
    with pytest.raises(NotAllowed):
        services.ticket_assign(ticket=ticket, actor=supervisor, assignee=make_agent(queue, username="agent-q"))
    services.ticket_assign(ticket=ticket, actor=supervisor, assignee=supervisor)
    assert Ticket.objects.get(pk=ticket.pk).assignee_id == supervisor.pk


@pytest.mark.django_db
def test_merchant_of_the_shop_sees_the_ticket_but_cannot_assign(ticket, agent):
    merchant = make_merchant(ticket.shop, owner=True, username="owner")
    before = _state(ticket)
    with pytest.raises(NotAllowed):
        services.ticket_assign(ticket=ticket, actor=merchant, assignee=agent)
    assert _state(ticket) == before
    assert _assign_events(ticket) == []


@pytest.mark.django_db
def test_agent_outside_the_queue_gets_not_visible(ticket, agent, other_queue):
    outsider = make_agent(other_queue, username="outsider")
    before = _state(ticket)
    with pytest.raises(NotVisible):
        services.ticket_assign(ticket=ticket, actor=outsider, assignee=agent)
    with pytest.raises(NotVisible):
        services.ticket_assign(ticket=ticket, actor=outsider, assignee=None)
    assert _state(ticket) == before
    assert _assign_events(ticket) == []


@pytest.mark.django_db
def test_system_actor_may_assign_and_is_audited_as_system(ticket, agent):
    services.ticket_assign(ticket=ticket, actor=None, assignee=agent)
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.status) == (agent.pk, Status.OPEN)
    [event] = _assign_events(ticket)
    assert (event.actor_id, event.actor_label) == (None, "system")
    assert event.changes == {"assignee": [None, agent.pk], "status": ["new", "open"]}


@pytest.mark.django_db
def test_assignment_is_broadcast_to_the_assignee_after_commit(
    ticket, agent, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(realtime, "broadcast", lambda groups, event: sent.append((groups, event)))
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    [(groups, event)] = sent
    assert realtime.user_group(agent.pk) in groups
    assert event == {"type": "ticket.assigned", "ticket": ticket.pk, "status": Status.OPEN, "assignee": agent.pk}


def _race(ticket_id: int, actor_id: int, assignee_ids: list[int]) -> list[BaseException]:
    """Run one ticket_assign per assignee id, each in its own thread and connection, released together."""
    barrier = threading.Barrier(len(assignee_ids), timeout=30)
    errors: list[BaseException] = []

    def assign(assignee_id: int) -> None:
        try:
            actor = User.objects.get(pk=actor_id)
            assignee = User.objects.get(pk=assignee_id)
            ticket = Ticket.objects.get(pk=ticket_id)
            barrier.wait()
            services.ticket_assign(ticket=ticket, actor=actor, assignee=assignee)
        except BaseException as exc:  # surfaced by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=assign, args=(pk,)) for pk in assignee_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_assignments_to_different_agents_form_one_consistent_history(shop, queue):
    """Each racer's change is applied on the locked row, so the audited before/after values chain up."""
    racers = [make_agent(queue, username=f"racer-{i}") for i in range(4)]
    boss = make_user(Role.SUPERVISOR, username="boss")
    ticket = make_ticket(shop=shop, queue=queue)

    assert _race(ticket.pk, boss.pk, [r.pk for r in racers]) == []

    history = [e.changes["assignee"] for e in _assign_events(ticket)]
    assert len(history) == len(racers)  # every racer changed something
    assert history[0][0] is None
    for previous, following in itertools.pairwise(history):
        assert following[0] == previous[1]
    assert sorted(after for _, after in history) == sorted(r.pk for r in racers)
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.status) == (history[-1][1], Status.OPEN)
    assert audit_chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_assignments_of_the_same_agent_change_once(shop, queue):
    """Four racers assigning the same agent: one effective change, three no-ops, one audit event."""
    agent = make_agent(queue, username="popular")
    boss = make_user(Role.SUPERVISOR, username="boss")
    ticket = make_ticket(shop=shop, queue=queue)

    assert _race(ticket.pk, boss.pk, [agent.pk] * 4) == []

    assert [e.changes for e in _assign_events(ticket)] == [{"assignee": [None, agent.pk], "status": ["new", "open"]}]
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.status) == (agent.pk, Status.OPEN)
    assert audit_chain_verify().ok
