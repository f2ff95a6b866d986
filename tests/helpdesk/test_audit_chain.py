"""The audit trail: hash-chained, append-only in the database, checkpointed, and tamper-evident."""

import contextlib
import hashlib
import hmac
import itertools
import json
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from helpdesk import context
from helpdesk.audit import (
    GENESIS,
    AuditError,
    audit_chain_verify,
    audit_checkpoint_create,
    audit_record,
)
from helpdesk.models import AuditCheckpoint, AuditEvent
from tests.factories import ShopFactory, make_customer, make_ticket
from tickets import services
from tickets.models import Status


@contextlib.contextmanager
def _trigger_disabled():
    """Let a test forge what an attacker with table-owner rights could: rewrite or drop audit rows.

    Django's foreign keys are deferred; firing them now leaves no pending trigger events, which ALTER TABLE
    refuses to run over.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE helpdesk_auditevent DISABLE TRIGGER helpdesk_auditevent_append_only")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE helpdesk_auditevent ENABLE TRIGGER helpdesk_auditevent_append_only")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _recompute(event: AuditEvent) -> str:
    """The documented digest, written out independently of helpdesk.audit."""
    fields = {
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "changes": event.changes,
        "ip": event.ip,
        "request_id": event.request_id,
    }
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((event.prev_hash + canonical).encode()).hexdigest()


@pytest.fixture(autouse=True)
def _one_chain(settings):
    """Most tests here read the trail as one chain; test_chains_* cover AUDIT_CHAINS > 1."""
    settings.AUDIT_CHAINS = 1


@pytest.fixture
def trail(shop, queue, agent):
    """A realistic run of events written by the services: customer, ticket, assignment, status changes."""
    ticket = make_ticket(shop=shop, queue=queue, customer=make_customer(shop))
    services.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.PENDING)
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.SOLVED)
    events = list(AuditEvent.objects.order_by("id"))
    assert len(events) == 5
    return events


# --- the chain -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_event_stores_the_hash_of_the_previous_one(trail):
    assert trail[0].prev_hash == GENESIS
    for previous, event in itertools.pairwise(trail):
        assert event.prev_hash == previous.hash
    assert len({e.hash for e in trail}) == len(trail)


@pytest.mark.django_db
def test_the_hash_is_sha256_of_prev_hash_and_canonical_json(trail):
    """Pins the format, so an external verifier can recompute the chain from an export."""
    for event in trail:
        assert event.hash == _recompute(event)


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [5000, 2, 1])
def test_an_intact_chain_verifies_whatever_the_batch_size(trail, batch_size):
    report = audit_chain_verify(batch_size=batch_size)
    assert (report.ok, report.checked, report.first_bad_id) == (True, len(trail), None)


@pytest.mark.django_db
def test_an_empty_trail_verifies():
    assert audit_chain_verify().ok


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_event_and_no_break_in_the_chain(trail):
    with contextlib.suppress(RuntimeError), transaction.atomic():
        audit_record(actor=None, action="doomed")
        raise RuntimeError("the change failed")
    after = audit_record(actor=None, action="survivor")
    assert not AuditEvent.objects.filter(action="doomed").exists()
    assert after.prev_hash == trail[-1].hash
    assert audit_chain_verify().ok


# --- append-only in the database -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE helpdesk_auditevent SET changes = '{}'::jsonb WHERE id = %s",
        "UPDATE helpdesk_auditevent SET actor_label = 'someone else' WHERE id = %s",
        "DELETE FROM helpdesk_auditevent WHERE id = %s",
    ],
)
def test_the_database_refuses_update_and_delete(trail, statement):
    victim = trail[2]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _sql(statement, [victim.pk])
    stored = AuditEvent.objects.get(pk=victim.pk)
    assert (stored.changes, stored.actor_label, stored.hash) == (victim.changes, victim.actor_label, victim.hash)
    assert audit_chain_verify().ok


@pytest.mark.django_db
def test_the_orm_cannot_rewrite_or_delete_events_either(trail):
    victim = trail[1]
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=victim.pk).update(action="ticket.nothing_happened")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=victim.pk).delete()
    victim.changes = {"forged": True}
    with pytest.raises(DatabaseError), transaction.atomic():
        victim.save()
    assert AuditEvent.objects.count() == len(trail)
    assert audit_chain_verify().ok


# --- tamper evidence -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [5000, 2])
def test_an_altered_event_is_reported_as_the_first_bad_one(trail, batch_size):
    victim = trail[2]
    with _trigger_disabled():
        _sql(
            "UPDATE helpdesk_auditevent SET changes = %s::jsonb WHERE id = %s",
            [json.dumps({"status": ["new", "closed"]}), victim.pk],
        )
    report = audit_chain_verify(batch_size=batch_size)
    assert (report.ok, report.first_bad_id, report.checked) == (False, victim.pk, 2)
    assert "altered" in report.reason


@pytest.mark.django_db
def test_an_event_rewritten_with_a_recomputed_own_hash_breaks_the_next_link(trail):
    """Recomputing the altered row's hash does not help: the next event still points at the old one."""
    victim = AuditEvent.objects.get(pk=trail[2].pk)
    victim.changes = {"assignee": [None, None]}
    forged_hash = _recompute(victim)
    with _trigger_disabled():
        _sql(
            "UPDATE helpdesk_auditevent SET changes = %s::jsonb, hash = %s WHERE id = %s",
            [json.dumps(victim.changes), forged_hash, victim.pk],
        )
    report = audit_chain_verify()
    assert (report.ok, report.first_bad_id) == (False, trail[3].pk)
    assert "previous hash" in report.reason


@pytest.mark.django_db
def test_a_deleted_middle_event_is_reported_at_its_successor(trail):
    with _trigger_disabled():
        _sql("DELETE FROM helpdesk_auditevent WHERE id = %s", [trail[2].pk])
    report = audit_chain_verify()
    assert (report.ok, report.first_bad_id, report.checked) == (False, trail[3].pk, 2)
    assert "previous hash" in report.reason


@pytest.mark.django_db
def test_a_deleted_first_event_is_reported_at_the_new_first(trail):
    with _trigger_disabled():
        _sql("DELETE FROM helpdesk_auditevent WHERE id = %s", [trail[0].pk])
    report = audit_chain_verify()
    assert (report.ok, report.first_bad_id) == (False, trail[1].pk)


# --- checkpoints -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_checkpoint_signs_the_head_of_the_chain(trail, settings):
    (checkpoint,) = audit_checkpoint_create()
    head = trail[-1]
    assert (checkpoint.last_event_id, checkpoint.last_hash, checkpoint.event_count) == (head.pk, head.hash, 5)
    expected = hmac.new(settings.SECRET_KEY.encode(), f"{head.pk}:{head.hash}".encode(), hashlib.sha256).hexdigest()
    assert checkpoint.signature == expected
    assert audit_chain_verify().ok


@pytest.mark.django_db
def test_checkpoint_is_none_when_nothing_is_new_and_follows_the_head_otherwise(trail):
    assert len(audit_checkpoint_create()) == 1
    assert audit_checkpoint_create() == []
    newest = audit_record(actor=None, action="heartbeat")
    (second,) = audit_checkpoint_create()
    assert (second.last_event_id, second.event_count) == (newest.pk, len(trail) + 1)
    assert AuditCheckpoint.objects.count() == 2


@pytest.mark.django_db
def test_no_checkpoint_for_an_empty_trail():
    assert audit_checkpoint_create() == []
    assert not AuditCheckpoint.objects.exists()


@pytest.mark.django_db
def test_a_forged_checkpoint_signature_is_detected(trail):
    (checkpoint,) = audit_checkpoint_create()
    AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(signature="0" * 64)
    report = audit_chain_verify()
    assert (report.ok, report.first_bad_id) == (False, checkpoint.last_event_id)
    assert "signature" in report.reason


@pytest.mark.django_db
def test_a_checkpoint_signed_with_another_key_is_detected(trail, settings):
    real_key = settings.SECRET_KEY
    settings.SECRET_KEY = "an-attackers-guess"
    audit_checkpoint_create()
    settings.SECRET_KEY = real_key
    assert not audit_chain_verify().ok


@pytest.mark.django_db
def test_a_truncated_tail_is_detected_by_the_last_checkpoint(trail):
    """Deleting the newest events leaves a valid-looking chain; only the signed head reveals it."""
    audit_checkpoint_create()
    with _trigger_disabled():
        _sql("DELETE FROM helpdesk_auditevent WHERE id = %s", [trail[-1].pk])
    report = audit_chain_verify()
    assert (report.ok, report.first_bad_id, report.checked) == (False, trail[-1].pk, len(trail) - 1)
    assert "gone" in report.reason


# --- recording -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_audit_record_outside_a_transaction_is_refused():
    """An event written apart from its change could survive a rolled-back change (or vanish with a kept one)."""
    assert not connection.in_atomic_block
    with pytest.raises(AuditError):
        audit_record(actor=None, action="orphan")
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_request_id_and_ip_come_from_the_bound_context(agent):
    default = audit_record(actor=agent, action="from.conftest")
    assert (default.request_id, default.ip) == ("test-request-0001", "127.0.0.1")
    with context.bound(request_id="req-42", ip="203.0.113.7"):
        bound = audit_record(actor=agent, action="from.request")
    assert (bound.request_id, bound.ip, bound.actor_id, bound.actor_label) == (
        "req-42",
        "203.0.113.7",
        agent.pk,
        "agent-a",
    )
    stored = AuditEvent.objects.get(pk=bound.pk)
    assert (stored.request_id, stored.ip) == ("req-42", "203.0.113.7")
    assert audit_record(actor=None, action="after").request_id == "test-request-0001"  # the binding ended


@pytest.mark.django_db
def test_actors_without_a_user_are_labelled_from_the_context():
    assert audit_record(actor=None, action="a").actor_label == "system"
    with context.bound(actor_label="task:sla_sweep", ip=None):
        event = audit_record(actor=None, action="b")
    assert (event.actor_id, event.actor_label, event.ip) == (None, "task:sla_sweep", None)


@pytest.mark.django_db
def test_binding_without_a_request_id_generates_one():
    with context.bound(request_id="") as ctx:
        event = audit_record(actor=None, action="cli")
    assert len(ctx.request_id) == 32 and event.request_id == ctx.request_id


@pytest.mark.django_db
def test_changes_are_stored_json_safe_and_secrets_masked(shop):
    order = services.order_upsert(shop=shop, order_no="N-1", actor=None, card_keys=["ABCD-EFGH-IJKL-7890"])
    event = audit_record(
        actor=None,
        action="probe",
        obj=order,
        changes={"order": order, "keys": order.card_keys, "amount": Decimal("9.90"), "tags": {"b", "a"}, 3: None},
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.changes == {
        "order": {"id": order.pk, "repr": "N-1"},
        "keys": "ABCD-****-****-7890",
        "amount": "9.90",
        "tags": ["a", "b"],
        "3": None,
    }
    assert (stored.object_type, stored.object_id, stored.object_repr) == ("tickets.order", str(order.pk), "N-1")
    assert audit_chain_verify().ok


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    [1, 1.5, 0.1, 1e-7, 1e16, -0.0],
)
def test_numbers_in_changes_survive_the_round_trip_through_jsonb(value):
    audit_record(actor=None, action="ticket.sentiment", changes={"sentiment": value})
    assert audit_chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_linear_chain():
    """The advisory lock makes each append see its true predecessor, even across connections."""
    writers, per_writer = 4, 5
    barrier = threading.Barrier(writers, timeout=30)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_writer):
                with transaction.atomic():
                    audit_record(actor=None, action=f"writer.{n}", changes={"i": i})
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    events = list(AuditEvent.objects.order_by("id"))
    assert len(events) == writers * per_writer
    assert [e.prev_hash for e in events] == [GENESIS] + [e.hash for e in events[:-1]]
    assert audit_chain_verify().ok


# --- several chains --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_chains_keep_each_objects_events_together_and_verify_and_checkpoint_each(settings):
    """With AUDIT_CHAINS > 1 each transaction's events go to its object's chain; each chain links and is signed."""
    from helpdesk.audit import chain_for

    settings.AUDIT_CHAINS = 4
    shops = [ShopFactory() for _ in range(8)]
    for _round in range(3):
        for shop in shops:
            with transaction.atomic():
                audit_record(actor=None, action="shop.touch", obj=shop)
    events = list(AuditEvent.objects.filter(action="shop.touch").order_by("id"))
    by_object = {}
    for event in events:
        by_object.setdefault(event.object_id, set()).add(event.chain)
    assert all(len(chains) == 1 for chains in by_object.values())
    assert {e.chain for e in events} == {chain_for("helpdesk.shop", str(s.pk)) for s in shops}
    for chain in {e.chain for e in events}:
        links = list(AuditEvent.objects.filter(chain=chain).order_by("id"))
        assert [e.prev_hash for e in links] == [GENESIS] + [e.hash for e in links[:-1]]
    created = audit_checkpoint_create()
    assert sorted(c.chain for c in created) == sorted({e.chain for e in AuditEvent.objects.all()})
    assert audit_chain_verify().ok
    # Truncating one chain's tail is caught by that chain's checkpoint.
    victim = AuditEvent.objects.filter(chain=created[-1].chain).order_by("-id").first()
    with transaction.atomic(), _trigger_disabled():
        _sql("DELETE FROM helpdesk_auditevent WHERE id = %s", [victim.pk])
    report = audit_chain_verify()
    assert not report.ok and report.first_bad_id == victim.pk


@pytest.mark.django_db(transaction=True)
def test_chains_let_writers_of_different_objects_append_in_parallel(settings):
    """Two transactions about objects of different chains do not wait for each other's commit."""
    from helpdesk.audit import chain_for

    settings.AUDIT_CHAINS = 16
    shops = [ShopFactory() for _ in range(40)]
    first = shops[0]
    other = next(
        s for s in shops[1:] if chain_for("helpdesk.shop", str(s.pk)) != chain_for("helpdesk.shop", str(first.pk))
    )
    holding = threading.Event()
    release = threading.Event()
    finished = threading.Event()

    def hold_first_chain() -> None:
        try:
            with transaction.atomic():
                audit_record(actor=None, action="slow", obj=first)
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    def append_other() -> None:
        try:
            with transaction.atomic():
                audit_record(actor=None, action="fast", obj=other)
            finished.set()
        finally:
            connection.close()

    slow = threading.Thread(target=hold_first_chain)
    slow.start()
    assert holding.wait(10)
    fast = threading.Thread(target=append_other)
    fast.start()
    assert finished.wait(5)  # not blocked behind the open transaction of the other chain
    release.set()
    slow.join()
    fast.join()
    assert audit_chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_one_transaction_appends_all_its_events_to_one_chain(settings):
    """Two objects of different chains in one transaction: one lock, one chain (no lock-order deadlock)."""
    from helpdesk.audit import chain_for

    settings.AUDIT_CHAINS = 16
    shops = [ShopFactory() for _ in range(40)]
    a = shops[0]
    b = next(s for s in shops[1:] if chain_for("helpdesk.shop", str(s.pk)) != chain_for("helpdesk.shop", str(a.pk)))
    with transaction.atomic():
        first = audit_record(actor=None, action="pair", obj=a)
        with transaction.atomic():  # a savepoint stays in the transaction's chain
            second = audit_record(actor=None, action="pair", obj=b)
    assert first.chain == second.chain == chain_for("helpdesk.shop", str(a.pk))
    assert second.prev_hash == first.hash
    with transaction.atomic():
        third = audit_record(actor=None, action="pair", obj=b)
    assert third.chain == chain_for("helpdesk.shop", str(b.pk))
    assert audit_chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_every_transaction_of_a_decorated_service_holds_its_chain_lock():
    """@transaction.atomic reuses one Atomic object for every call: the second call's transaction must still
    take the chain's advisory lock, or two writers could fork the chain."""
    from helpdesk.audit import _CHAIN_LOCK

    shop = ShopFactory()
    held: list[int] = []

    @transaction.atomic
    def audited_write():
        event = audit_record(actor=None, action="test.write", obj=shop)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                " AND classid = %s AND objid = %s AND granted",
                [_CHAIN_LOCK, event.chain],
            )
            held.append(cursor.fetchone()[0])

    audited_write()
    audited_write()
    assert held == [1, 1]
    assert audit_chain_verify().ok
