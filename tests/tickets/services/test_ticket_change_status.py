"""ticket_change_status: the lifecycle new → open ⇄ pending/on_hold → solved → closed, its stamps, who may move it."""

import pytest
from django.utils import timezone

from helpdesk import realtime
from helpdesk.audit import audit_chain_verify
from helpdesk.models import AuditEvent
from helpdesk.roles import Role
from tests.factories import make_agent, make_customer, make_merchant, make_ticket, make_user
from tickets import services
from tickets.errors import InvalidInput, InvalidTransition, NotAllowed, NotVisible
from tickets.models import Status, Ticket

NEW, OPEN, PENDING, ON_HOLD, SOLVED, CLOSED = (
    Status.NEW,
    Status.OPEN,
    Status.PENDING,
    Status.ON_HOLD,
    Status.SOLVED,
    Status.CLOSED,
)

# The lifecycle as the product defines it, written out independently of the code under test.
ALLOWED = {
    (NEW, OPEN),
    (NEW, PENDING),
    (NEW, ON_HOLD),
    (NEW, SOLVED),
    (OPEN, PENDING),
    (OPEN, ON_HOLD),
    (OPEN, SOLVED),
    (PENDING, OPEN),
    (PENDING, ON_HOLD),
    (PENDING, SOLVED),
    (ON_HOLD, OPEN),
    (ON_HOLD, PENDING),
    (ON_HOLD, SOLVED),
    (SOLVED, OPEN),
    (SOLVED, CLOSED),
}

# How a fresh (new) ticket reaches each status through allowed transitions only.
REACH = {
    NEW: (),
    OPEN: (OPEN,),
    PENDING: (PENDING,),
    ON_HOLD: (ON_HOLD,),
    SOLVED: (SOLVED,),
    CLOSED: (SOLVED, CLOSED),
}

PAIRS = [pytest.param(a, b, id=f"{a}->{b}") for a in Status.values for b in Status.values]


def _bring_to(ticket: Ticket, status: str) -> Ticket:
    for step in REACH[status]:
        services.ticket_change_status(ticket=ticket, actor=None, status=step)
    ticket.refresh_from_db()
    assert ticket.status == status
    return ticket


def _state(ticket: Ticket) -> tuple:
    row = Ticket.objects.get(pk=ticket.pk)
    return row.status, row.solved_at, row.closed_at, row.updated_at, row.merged_into_id


def _status_events(ticket: Ticket) -> int:
    return AuditEvent.objects.filter(action="ticket.status", object_id=str(ticket.pk)).count()


def test_transitions_table_is_the_documented_lifecycle():
    """Changing the workflow must be a deliberate change to this test too."""
    table = {(a, b) for a, targets in services.TRANSITIONS.items() for b in targets}
    assert table == ALLOWED
    assert set(services.TRANSITIONS) == set(Status.values)


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to_status"), PAIRS)
def test_every_status_pair_is_allowed_exactly_when_the_lifecycle_permits(ticket, agent, from_status, to_status):
    """Allowed pairs move and audit; same status is a silent no-op; any other pair raises and changes nothing."""
    _bring_to(ticket, from_status)
    before_state = _state(ticket)
    before_events = _status_events(ticket)
    started = timezone.now()

    if from_status == to_status:
        result = services.ticket_change_status(ticket=ticket, actor=agent, status=to_status)
        assert result.status == from_status
        assert _state(ticket) == before_state
        assert _status_events(ticket) == before_events
        return

    if (from_status, to_status) not in ALLOWED:
        with pytest.raises(InvalidTransition) as err:
            services.ticket_change_status(ticket=ticket, actor=agent, status=to_status)
        assert err.value.field == "status"
        assert _state(ticket) == before_state
        assert _status_events(ticket) == before_events
        return

    result = services.ticket_change_status(ticket=ticket, actor=agent, status=to_status)
    assert result.status == to_status
    ticket.refresh_from_db()
    assert ticket.status == to_status
    old_status, old_solved_at, old_closed_at, _updated, _merged = before_state
    if to_status == SOLVED:
        assert started <= ticket.solved_at <= timezone.now()
    elif from_status == SOLVED and to_status == OPEN:
        assert ticket.solved_at is None
    else:
        assert ticket.solved_at == old_solved_at
    if to_status == CLOSED:
        assert started <= ticket.closed_at <= timezone.now()
    else:
        assert ticket.closed_at == old_closed_at is None
    event = AuditEvent.objects.filter(action="ticket.status", object_id=str(ticket.pk)).latest("id")
    assert event.changes == {"status": [old_status, to_status]}
    assert event.actor_id == agent.pk
    assert _status_events(ticket) == before_events + 1


@pytest.mark.django_db
def test_solving_stamps_solved_at_and_closing_keeps_it_and_stamps_closed_at(ticket, agent):
    services.ticket_change_status(ticket=ticket, actor=agent, status=SOLVED)
    ticket.refresh_from_db()
    solved_at = ticket.solved_at
    assert solved_at is not None and ticket.closed_at is None

    services.ticket_change_status(ticket=ticket, actor=agent, status=CLOSED)
    ticket.refresh_from_db()
    assert ticket.solved_at == solved_at
    assert ticket.closed_at is not None and ticket.closed_at >= solved_at
    assert audit_chain_verify().ok


@pytest.mark.django_db
def test_reopening_a_solved_ticket_clears_solved_at_and_solving_again_restamps(ticket, agent):
    services.ticket_change_status(ticket=ticket, actor=agent, status=SOLVED)
    ticket.refresh_from_db()
    first_solved_at = ticket.solved_at

    services.ticket_change_status(ticket=ticket, actor=agent, status=OPEN)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.solved_at) == (OPEN, None)

    services.ticket_change_status(ticket=ticket, actor=agent, status=SOLVED)
    ticket.refresh_from_db()
    assert ticket.solved_at is not None and ticket.solved_at >= first_solved_at
    changes = [
        e.changes["status"]
        for e in AuditEvent.objects.filter(action="ticket.status", object_id=str(ticket.pk)).order_by("id")
    ]
    assert changes == [[NEW, SOLVED], [SOLVED, OPEN], [OPEN, SOLVED]]


@pytest.mark.django_db
def test_same_status_writes_no_audit_event_and_broadcasts_nothing(
    ticket, agent, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(realtime, "broadcast", lambda groups, event: sent.append(event))
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_change_status(ticket=ticket, actor=agent, status=NEW)
    assert sent == []
    assert _status_events(ticket) == 0


@pytest.mark.django_db
def test_an_allowed_change_is_broadcast_once_after_commit(
    ticket, agent, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(realtime, "broadcast", lambda groups, event: sent.append((groups, event)))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.ticket_change_status(ticket=ticket, actor=agent, status=PENDING)
        assert sent == []  # nothing leaves before the transaction commits
    assert len(callbacks) == 1
    [(groups, event)] = sent
    assert event == {"type": "ticket.status_changed", "ticket": ticket.pk, "status": PENDING}
    assert realtime.ticket_group(ticket.pk) in groups and realtime.queue_group(ticket.queue_id) in groups


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["", "archived", "SOLVED", None])
def test_unknown_status_is_invalid_input_naming_the_field(ticket, agent, status):
    before = _state(ticket)
    with pytest.raises(InvalidInput) as err:
        services.ticket_change_status(ticket=ticket, actor=agent, status=status)
    assert err.value.field == "status"
    assert _state(ticket) == before
    assert _status_events(ticket) == 0


@pytest.mark.django_db
def test_agent_outside_the_queue_gets_not_visible_and_nothing_changes(ticket, other_queue):
    outsider = make_agent(other_queue, username="outsider")
    before = _state(ticket)
    with pytest.raises(NotVisible):
        services.ticket_change_status(ticket=ticket, actor=outsider, status=OPEN)
    assert _state(ticket) == before
    assert _status_events(ticket) == 0


@pytest.mark.django_db
def test_supervisor_and_the_shops_merchant_may_change_status(ticket, supervisor):
    services.ticket_change_status(ticket=ticket, actor=supervisor, status=OPEN)
    merchant = make_merchant(ticket.shop, username="shop-owner")
    services.ticket_change_status(ticket=ticket, actor=merchant, status=PENDING)
    ticket.refresh_from_db()
    assert ticket.status == PENDING
    actors = list(
        AuditEvent.objects.filter(action="ticket.status", object_id=str(ticket.pk))
        .order_by("id")
        .values_list("actor_id", flat=True)
    )
    assert actors == [supervisor.pk, merchant.pk]


@pytest.mark.django_db
def test_merchant_of_another_shop_gets_not_visible(ticket, other_shop):
    stranger = make_merchant(other_shop, username="other-merchant")
    with pytest.raises(NotVisible):
        services.ticket_change_status(ticket=ticket, actor=stranger, status=OPEN)
    assert Ticket.objects.get(pk=ticket.pk).status == NEW


@pytest.mark.django_db
def test_customer_may_mark_their_own_ticket_solved(shop, queue):
    user = make_user(Role.CUSTOMER, username="buyer")
    ticket = make_ticket(shop=shop, queue=queue, customer=make_customer(shop, user=user))
    services.ticket_change_status(ticket=ticket, actor=user, status=SOLVED)
    ticket.refresh_from_db()
    assert ticket.status == SOLVED and ticket.solved_at is not None
    event = AuditEvent.objects.get(action="ticket.status", object_id=str(ticket.pk))
    assert (event.actor_id, event.actor_label) == (user.pk, "buyer")


@pytest.mark.django_db
@pytest.mark.parametrize("status", [OPEN, PENDING, ON_HOLD])
def test_customer_may_not_set_any_other_status_on_their_own_ticket(shop, queue, status):
    user = make_user(Role.CUSTOMER, username="buyer")
    ticket = make_ticket(shop=shop, queue=queue, customer=make_customer(shop, user=user))
    before = _state(ticket)
    with pytest.raises(NotAllowed):
        services.ticket_change_status(ticket=ticket, actor=user, status=status)
    assert _state(ticket) == before
    assert _status_events(ticket) == 0


@pytest.mark.django_db
def test_customer_cannot_touch_someone_elses_ticket(ticket):
    user = make_user(Role.CUSTOMER, username="nosy")
    with pytest.raises(NotVisible):
        services.ticket_change_status(ticket=ticket, actor=user, status=SOLVED)
    assert Ticket.objects.get(pk=ticket.pk).status == NEW


@pytest.mark.django_db
@pytest.mark.parametrize("status", [OPEN, SOLVED, PENDING])
def test_a_merged_ticket_cannot_be_reopened(shop, queue, agent, status):
    source = make_ticket(shop=shop, queue=queue)
    target = make_ticket(shop=shop, queue=queue)
    services.ticket_merge(source=source, target=target, actor=agent)
    before = _state(source)
    events = _status_events(source)
    with pytest.raises(InvalidTransition) as err:
        services.ticket_change_status(ticket=source, actor=agent, status=status)
    assert err.value.field == "status"
    assert _state(source) == before
    assert _status_events(source) == events


@pytest.mark.django_db
def test_the_merge_link_keeps_a_ticket_closed_even_if_its_status_was_rewritten(shop, queue, agent):
    """Defence in depth: a merged ticket whose status was edited outside the services still refuses to reopen."""
    source = make_ticket(shop=shop, queue=queue)
    target = make_ticket(shop=shop, queue=queue)
    services.ticket_merge(source=source, target=target, actor=agent)
    Ticket.objects.filter(pk=source.pk).update(status=SOLVED)
    with pytest.raises(InvalidTransition, match="merged") as err:
        services.ticket_change_status(ticket=source, actor=agent, status=OPEN)
    assert err.value.field == "status"
    source.refresh_from_db()
    assert (source.status, source.merged_into_id) == (SOLVED, target.pk)


@pytest.mark.django_db
def test_the_service_acts_on_the_locked_row_not_a_stale_copy(ticket, agent):
    """A caller holding an old object (still `new`) cannot bypass the lifecycle from the row's real status."""
    stale = Ticket.objects.get(pk=ticket.pk)
    services.ticket_change_status(ticket=ticket, actor=agent, status=SOLVED)
    services.ticket_change_status(ticket=ticket, actor=agent, status=CLOSED)
    assert stale.status == NEW
    with pytest.raises(InvalidTransition):
        services.ticket_change_status(ticket=stale, actor=agent, status=OPEN)
    assert Ticket.objects.get(pk=ticket.pk).status == CLOSED
