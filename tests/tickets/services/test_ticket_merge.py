"""ticket_merge: the source's thread moves after the target's, the source closes, and refusals change nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from helpdesk.audit import audit_chain_verify
from helpdesk.models import AuditEvent
from tests.factories import QueueFactory, make_agent, make_customer, make_merchant, make_ticket
from tickets import services
from tickets.errors import InvalidInput, InvalidTransition, NotAllowed, NotVisible
from tickets.models import Attachment, AuthorKind, Message, Status, Ticket


@pytest.fixture
def target(shop, queue, agent):
    """Thread: customer (1), agent reply "c-1" (2), customer "c-2" (3); tags payment + vip."""
    ticket = make_ticket(shop=shop, queue=queue, body="target: 第一条", tags=["payment", "vip"])
    services.agent_reply_post(ticket=ticket, actor=agent, body="target: 回复", client_msg_id="c-1")
    services.customer_message_post(ticket=ticket, actor=None, body="target: 追问", client_msg_id="c-2")
    return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def source(shop, queue, agent, target):
    """Same customer's duplicate: customer (1), customer "c-2" (2, collides), reply "c-9" (3), note (4)."""
    ticket = make_ticket(shop=shop, queue=queue, customer=target.customer, body="source: 第一条", tags=["vip", "dup"])
    services.customer_message_post(ticket=ticket, actor=None, body="source: 还在吗", client_msg_id="c-2")
    services.agent_reply_post(ticket=ticket, actor=agent, body="source: 回复", client_msg_id="c-9")
    services.internal_note_post(ticket=ticket, actor=agent, body="source: 备注")
    return Ticket.objects.get(pk=ticket.pk)


def _thread(ticket: Ticket) -> list[tuple]:
    return list(
        Message.objects.filter(ticket_id=ticket.pk)
        .order_by("seq")
        .values_list("pk", "seq", "body", "client_msg_id", "is_internal", "author_kind")
    )


def _snapshot(*tickets: Ticket) -> dict:
    """Everything a merge touches, to prove that a refused one left it all alone."""
    return {
        ticket.pk: {
            "row": Ticket.objects.filter(pk=ticket.pk)
            .values("status", "closed_at", "merged_into_id", "last_seq", "updated_at")
            .get(),
            "thread": _thread(ticket),
            "tags": sorted(Ticket.objects.get(pk=ticket.pk).tags.values_list("name", flat=True)),
        }
        for ticket in tickets
    } | {"audit": AuditEvent.objects.count()}


@pytest.mark.django_db
def test_source_messages_follow_the_targets_in_order_with_consecutive_seqs(source, target, agent):
    target_before = _thread(target)
    source_before = _thread(source)

    result = services.ticket_merge(source=source, target=target, actor=agent)

    assert result.pk == target.pk
    thread = _thread(target)
    assert [seq for _, seq, *_ in thread] == list(range(1, len(thread) + 1))  # no gaps, unique
    assert len(thread) == len(target_before) + len(source_before) + 1  # + the system note
    assert [pk for pk, *_ in thread[: len(target_before)]] == [pk for pk, *_ in target_before]
    moved = thread[len(target_before) : -1]
    assert [(pk, body, internal) for pk, _, body, _, internal, _ in moved] == [
        (pk, body, internal) for pk, _, body, _, internal, _ in source_before
    ]
    target.refresh_from_db()
    assert target.last_seq == len(thread)


@pytest.mark.django_db
def test_source_is_closed_merged_and_told_so_publicly(source, target, agent):
    services.ticket_merge(source=source, target=target, actor=agent)
    source.refresh_from_db()
    assert source.status == Status.CLOSED
    assert source.closed_at is not None
    assert source.merged_into_id == target.pk
    [notice] = Message.objects.filter(ticket=source)
    assert notice.author_kind == AuthorKind.SYSTEM and not notice.is_internal
    assert notice.body == f"Merged into {target.reference}."
    assert notice.seq > 4  # never reuses a seq a client may already have seen


@pytest.mark.django_db
def test_target_gets_an_internal_system_note_naming_the_source(source, target, agent):
    services.ticket_merge(source=source, target=target, actor=agent)
    note = Message.objects.filter(ticket=target).order_by("-seq").first()
    assert note.author_kind == AuthorKind.SYSTEM and note.is_internal
    assert note.body == f"{source.reference} was merged into this ticket (4 messages)."
    assert Ticket.objects.get(pk=target.pk).status == Status.OPEN  # unchanged by the merge


@pytest.mark.django_db
def test_tags_are_the_union_of_both_tickets(source, target, agent):
    services.ticket_merge(source=source, target=target, actor=agent)
    assert sorted(target.tags.values_list("name", flat=True)) == ["dup", "payment", "vip"]


@pytest.mark.django_db
def test_colliding_client_msg_ids_are_nulled_and_the_others_kept(source, target, agent):
    moved_collision = Message.objects.get(ticket=source, client_msg_id="c-2").pk
    services.ticket_merge(source=source, target=target, actor=agent)
    ids = dict(Message.objects.filter(ticket=target).values_list("pk", "client_msg_id"))
    assert ids[moved_collision] is None
    assert sorted(i for i in ids.values() if i) == ["c-1", "c-2", "c-9"]
    original = Message.objects.get(ticket=target, client_msg_id="c-2")
    assert original.seq == 3  # the target's own message keeps its id


@pytest.mark.django_db
def test_retrying_a_moved_message_on_the_target_is_still_idempotent(source, target, agent):
    """The kept client_msg_id travels with the message, so a client's retry finds it on the target."""
    services.ticket_merge(source=source, target=target, actor=agent)
    again = services.agent_reply_post(ticket=target, actor=agent, body="source: 回复", client_msg_id="c-9")
    assert not again.created
    assert again.message.body == "source: 回复"


@pytest.mark.django_db
def test_attachments_move_with_their_messages(shop, queue, agent, target, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    png = SimpleUploadedFile("shot.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20, content_type="image/png")
    source = make_ticket(shop=shop, queue=queue, attachments=[png])
    attachment = Attachment.objects.get(message__ticket=source)
    services.ticket_merge(source=source, target=target, actor=agent)
    attachment.refresh_from_db()
    assert attachment.message.ticket_id == target.pk


@pytest.mark.django_db
def test_both_tickets_get_audit_events_and_the_chain_still_verifies(source, target, agent):
    services.ticket_merge(source=source, target=target, actor=agent)
    merged = AuditEvent.objects.get(action="ticket.merge")
    received = AuditEvent.objects.get(action="ticket.merge_received")
    assert (merged.object_id, merged.actor_id) == (str(source.pk), agent.pk)
    assert merged.changes == {"merged_into": target.reference, "status": ["open", "closed"]}
    assert (received.object_id, received.actor_id) == (str(target.pk), agent.pk)
    assert received.changes == {"merged_from": source.reference, "messages": 4}
    assert merged.id < received.id
    assert audit_chain_verify().ok


@pytest.mark.django_db
def test_a_solved_source_records_its_previous_status(source, target, agent):
    services.ticket_change_status(ticket=source, actor=agent, status=Status.SOLVED)
    services.ticket_merge(source=source, target=target, actor=None)
    event = AuditEvent.objects.get(action="ticket.merge")
    assert event.changes["status"] == ["solved", "closed"]
    assert (event.actor_id, event.actor_label) == (None, "system")


@pytest.mark.django_db
def test_supervisor_may_merge_across_queues_of_one_shop(shop, supervisor, target):
    elsewhere = make_ticket(shop=shop, queue=QueueFactory(slug="accounts-2"))
    services.ticket_merge(source=elsewhere, target=target, actor=supervisor)
    assert Ticket.objects.get(pk=elsewhere.pk).merged_into_id == target.pk


@pytest.mark.django_db
def test_merging_a_ticket_into_itself_is_invalid_input(target, agent):
    before = _snapshot(target)
    with pytest.raises(InvalidInput) as err:
        services.ticket_merge(source=target, target=target, actor=agent)
    assert err.value.field == "target"
    assert _snapshot(target) == before


@pytest.mark.django_db
def test_tickets_of_different_shops_cannot_be_merged(other_shop, queue, supervisor, target):
    foreign = make_ticket(shop=other_shop, queue=queue, customer=make_customer(other_shop, external_id="moon-1"))
    before = _snapshot(foreign, target)
    with pytest.raises(InvalidInput) as err:
        services.ticket_merge(source=foreign, target=target, actor=supervisor)
    assert err.value.field == "target"
    assert _snapshot(foreign, target) == before


@pytest.mark.django_db
def test_nothing_merges_into_a_closed_ticket(source, target, agent):
    services.ticket_change_status(ticket=target, actor=agent, status=Status.SOLVED)
    services.ticket_change_status(ticket=target, actor=agent, status=Status.CLOSED)
    before = _snapshot(source, target)
    with pytest.raises(InvalidTransition) as err:
        services.ticket_merge(source=source, target=target, actor=agent)
    assert err.value.field == "target"
    assert _snapshot(source, target) == before


@pytest.mark.django_db
def test_an_already_merged_ticket_cannot_be_merged_again(shop, queue, source, target, agent):
    third = make_ticket(shop=shop, queue=queue)
    services.ticket_merge(source=source, target=target, actor=agent)
    before = _snapshot(source, target, third)
    with pytest.raises(InvalidTransition) as err:
        services.ticket_merge(source=source, target=third, actor=agent)  # the source was merged
    assert err.value.field == "target"
    with pytest.raises(InvalidTransition):
        services.ticket_merge(source=third, target=source, actor=agent)  # the target was merged
    assert _snapshot(source, target, third) == before


@pytest.mark.django_db
def test_the_service_rechecks_the_locked_rows_not_the_callers_copies(shop, queue, source, target, agent):
    """A stale source object that still looks unmerged is refused once the row says otherwise."""
    third = make_ticket(shop=shop, queue=queue)
    stale = Ticket.objects.get(pk=source.pk)
    services.ticket_merge(source=source, target=target, actor=agent)
    assert stale.merged_into_id is None
    with pytest.raises(InvalidTransition):
        services.ticket_merge(source=stale, target=third, actor=agent)
    assert Message.objects.filter(ticket=third).count() == 1


@pytest.mark.django_db
def test_agent_who_works_only_the_source_may_not_merge_into_a_ticket_outside_their_queues(shop, source, other_queue):
    elsewhere = make_ticket(shop=shop, queue=other_queue)
    before = _snapshot(source, elsewhere)
    source_only = make_agent(source.queue, username="source-only")
    with pytest.raises(NotAllowed):
        services.ticket_merge(source=source, target=elsewhere, actor=source_only)
    target_only = make_agent(other_queue, username="target-only")
    with pytest.raises(NotVisible):
        services.ticket_merge(source=source, target=elsewhere, actor=target_only)
    assert _snapshot(source, elsewhere) == before


@pytest.mark.django_db
def test_merchant_sees_both_tickets_but_may_not_merge(source, target):
    merchant = make_merchant(source.shop, username="shop-owner")
    before = _snapshot(source, target)
    with pytest.raises(NotAllowed):
        services.ticket_merge(source=source, target=target, actor=merchant)
    assert _snapshot(source, target) == before


@pytest.mark.django_db
def test_outsider_agent_gets_not_visible(source, target, other_queue):
    outsider = make_agent(other_queue, username="outsider")
    before = _snapshot(source, target)
    with pytest.raises(NotVisible):
        services.ticket_merge(source=source, target=target, actor=outsider)
    assert _snapshot(source, target) == before
