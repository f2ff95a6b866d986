"""Writes from the ticket page: reply, note, fields, quick actions, merge — and how each refusal keeps the typing."""

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pytest_django.asserts import assertContains

from helpdesk.models import AuditEvent
from tests.factories import CategoryFactory, make_merchant, make_ticket
from tests.tickets.views.support import assigned, closed, flashes, set_status
from tickets import services
from tickets.models import Attachment, AuthorKind, Message, Priority, Status, Ticket
from tickets.views.ticket import ticket_version

DRAFT = "您好，\n卡密已经重新发送，请查收 <邮件>。"


def _url(name: str, ticket: Ticket, *args) -> str:
    return reverse(f"console:{name}", args=[ticket.reference, *args])


def _textarea(response) -> str | None:
    """What the reply box holds, as the browser would show it."""
    match = re.search(r'<textarea name="body"[^>]*>\n?(.*?)</textarea>', response.content.decode(), re.S)
    return html.unescape(match.group(1)) if match else None


def _reply(client, ticket: Ticket, body: str = DRAFT, **extra):
    data = {"kind": "reply", "body": body, "seen_seq": ticket.last_seq, "client_msg_id": "draft-1", **extra}
    return client.post(_url("ticket-reply", ticket), data)


def _messages(ticket: Ticket) -> list[tuple]:
    return list(
        Message.objects.filter(ticket=ticket).order_by("seq").values_list("seq", "author_kind", "is_internal", "body")
    )


def _snapshot(ticket: Ticket) -> dict:
    row = Ticket.objects.filter(pk=ticket.pk).values().get()
    return {**row, "tags": sorted(Ticket.objects.get(pk=ticket.pk).tags.values_list("name", flat=True))}


# --- reply and note ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_public_reply_is_stored_and_the_page_reloads(client, agent, ticket):
    client.force_login(agent)
    response = _reply(client, ticket)
    assert response.status_code == 302
    assert response.url == _url("ticket", ticket)
    [_first, (seq, kind, internal, body)] = _messages(ticket)
    assert (seq, kind, internal) == (2, AuthorKind.AGENT, False)
    assert body == "您好，<br>卡密已经重新发送，请查收 &lt;邮件&gt;。"
    ticket.refresh_from_db()
    assert (ticket.status, ticket.last_seq) == (Status.OPEN, 2)
    assert AuditEvent.objects.filter(action="ticket.reply", object_id=str(ticket.pk), actor=agent).exists()
    assert flashes(response) == [("success", "Reply sent.")]


@pytest.mark.django_db
def test_note_is_stored_as_internal_and_leaves_the_status(client, agent, ticket):
    client.force_login(agent)
    response = _reply(client, ticket, body="内部：已联系上游", kind="note")
    assert response.status_code == 302
    assert _messages(ticket)[-1][:3] == (2, AuthorKind.AGENT, True)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW
    assert flashes(response) == [("success", "Note added.")]


@pytest.mark.django_db
def test_reply_then_solved_sends_and_solves(client, agent, ticket):
    client.force_login(agent)
    response = _reply(client, ticket, then_status=Status.SOLVED)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED
    assert ticket.solved_at is not None
    assert len(_messages(ticket)) == 2
    statuses = AuditEvent.objects.filter(action="ticket.status", object_id=str(ticket.pk)).values_list("changes")
    assert list(statuses) == [({"status": ["open", "solved"]},)]


@pytest.mark.django_db
def test_resending_the_same_draft_does_not_post_it_twice(client, agent, ticket):
    client.force_login(agent)
    _reply(client, ticket)
    _reply(client, ticket)
    assert len(_messages(ticket)) == 2


@pytest.mark.django_db
def test_reply_with_an_attachment_stores_the_file(client, agent, ticket):
    client.force_login(agent)
    upload = SimpleUploadedFile("steps.txt", b"1. open the shop\n2. redeem", content_type="text/plain")
    response = _reply(client, ticket, attachments=upload)
    assert response.status_code == 302
    [attachment] = Attachment.objects.filter(message__ticket=ticket)
    assert (attachment.filename, attachment.content_type) == ("steps.txt", "text/plain")


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["", "   \n  "])
def test_empty_reply_is_400_with_the_field_error_and_the_form_still_there(client, agent, ticket, body):
    client.force_login(agent)
    response = _reply(client, ticket, body=body)
    assert response.status_code == 400
    assert response.context["reply_form"].errors["body"] == ["This field is required."]
    assertContains(response, '<p class="error" role="alert">This field is required.</p>', status_code=400, html=True)
    assertContains(response, 'id="reply"', status_code=400)
    assert _textarea(response) == body
    assert len(_messages(ticket)) == 1


@pytest.mark.django_db
def test_a_bad_attachment_is_400_naming_the_file_and_keeps_the_text(client, agent, ticket):
    client.force_login(agent)
    fake = SimpleUploadedFile("screen.png", b"not a png at all", content_type="image/png")
    response = _reply(client, ticket, attachments=fake)
    assert response.status_code == 400
    assertContains(response, "screen.png is not a valid image/png file.", status_code=400)
    assert _textarea(response) == DRAFT
    assert len(_messages(ticket)) == 1


@pytest.mark.django_db
def test_stale_reply_is_409_stores_nothing_and_keeps_the_typed_text(client, agent, ticket):
    """The customer wrote while the agent typed: the agent should read it first, so nothing is sent."""
    client.force_login(agent)
    seen = client.get(_url("ticket", ticket)).context["reply_form"]["seen_seq"].value()
    services.customer_message_post(ticket=ticket, actor=None, body="算了，我要退款")
    response = _reply(client, ticket, seen_seq=seen)
    assert response.status_code == 409
    assert [m[1] for m in _messages(ticket)] == [AuthorKind.CUSTOMER, AuthorKind.CUSTOMER]
    assertContains(response, "The customer wrote again while you were typing.", status_code=409)
    assertContains(response, "算了，我要退款", status_code=409)  # the new message is on the page to read
    assert _textarea(response) == DRAFT
    form = response.context["reply_form"]
    assert form["seen_seq"].value() == 2
    assert form["kind"].value() == "reply"
    assert form["client_msg_id"].value() == "draft-1"


@pytest.mark.django_db
def test_after_a_stale_reply_sending_again_from_the_kept_form_goes_through(client, agent, ticket):
    client.force_login(agent)
    services.customer_message_post(ticket=ticket, actor=None, body="还在吗")
    stale = _reply(client, ticket, seen_seq=1)
    kept = stale.context["reply_form"]
    response = _reply(client, ticket, body=_textarea(stale), seen_seq=kept["seen_seq"].value())
    assert response.status_code == 302
    assert _messages(ticket)[-1][1:3] == (AuthorKind.AGENT, False)


@pytest.mark.django_db
def test_a_newer_desk_message_does_not_make_the_reply_stale(client, agent, colleague, ticket):
    services.internal_note_post(ticket=ticket, actor=colleague, body="我来跟进")
    client.force_login(agent)
    response = _reply(client, ticket, seen_seq=1)
    assert response.status_code == 302
    assert len(_messages(ticket)) == 3


@pytest.mark.django_db
def test_a_note_is_never_stale(client, agent, ticket):
    services.customer_message_post(ticket=ticket, actor=None, body="？")
    client.force_login(agent)
    response = _reply(client, ticket, kind="note", body="先看日志", seen_seq=1)
    assert response.status_code == 302
    assert _messages(ticket)[-1][1:3] == (AuthorKind.AGENT, True)


@pytest.mark.django_db
def test_reply_on_a_closed_ticket_is_409_with_the_reason_and_the_text_kept(client, agent, ticket):
    ticket = closed(ticket)
    client.force_login(agent)
    response = _reply(client, ticket)
    assert response.status_code == 409
    assertContains(response, "This ticket is closed.", status_code=409)
    assert _textarea(response) == DRAFT
    assert len(_messages(ticket)) == 1


@pytest.mark.django_db
def test_reply_with_a_then_status_the_ticket_cannot_take_sends_nothing(client, agent, ticket):
    ticket = set_status(ticket, Status.OPEN)
    client.force_login(agent)
    response = _reply(client, ticket, then_status=Status.CLOSED)
    assert response.status_code == 409
    assertContains(response, "to Closed.", status_code=409)
    assert len(_messages(ticket)) == 1


# --- the fields panel ----------------------------------------------------------------------------------


def _fields(ticket: Ticket, **changes) -> dict:
    """The panel as the page would submit it: current values and version, then the agent's changes."""
    current = Ticket.objects.get(pk=ticket.pk)
    data = {
        "status": current.status,
        "priority": current.priority,
        "category": current.category_id or "",
        "queue": current.queue_id or "",
        "assignee": current.assignee_id or "",
        "tags": ", ".join(current.tags.values_list("name", flat=True)),
        "version": ticket_version(current),
    }
    return {**data, **changes}


def _events(ticket: Ticket) -> dict[str, dict]:
    return {
        e.action: e.changes
        for e in AuditEvent.objects.filter(
            object_id=str(ticket.pk), action__in=["ticket.update", "ticket.assign", "ticket.status"]
        )
    }


@pytest.mark.django_db
def test_fields_form_changes_each_field_through_the_services(client, agent, colleague, ticket):
    category = CategoryFactory(name="退款")
    client.force_login(agent)
    data = _fields(
        ticket,
        status=Status.PENDING,
        priority=Priority.HIGH,
        category=category.pk,
        assignee=colleague.pk,
        tags="退款，vip, 加急",
    )
    response = client.post(_url("ticket-fields", ticket), data)
    assert response.status_code == 302
    assert response.url == _url("ticket", ticket)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.category_id, ticket.assignee_id) == (
        Status.PENDING,
        Priority.HIGH,
        category.pk,
        colleague.pk,
    )
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["vip", "加急", "退款"]
    events = _events(ticket)
    assert events["ticket.update"] == {
        "priority": ["normal", "high"],
        "category": [None, category.pk],
        "tags": [[], ["vip", "加急", "退款"]],
    }
    assert events["ticket.assign"] == {"assignee": [None, colleague.pk], "status": ["new", "open"]}
    assert events["ticket.status"] == {"status": ["open", "pending"]}
    assert flashes(response) == [("success", "Ticket updated.")]


@pytest.mark.django_db
def test_fields_form_moves_the_ticket_to_another_queue_and_its_agent(
    client, supervisor, stranger, ticket, queue, other_queue
):
    """The new assignee is checked against the new queue, so moving and assigning in one save works."""
    ticket = set_status(ticket, Status.OPEN)
    client.force_login(supervisor)
    response = client.post(_url("ticket-fields", ticket), _fields(ticket, queue=other_queue.pk, assignee=stranger.pk))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.queue_id, ticket.assignee_id) == (other_queue.pk, stranger.pk)
    assert _events(ticket)["ticket.update"] == {"queue": [queue.pk, other_queue.pk]}


@pytest.mark.django_db
def test_assigning_a_new_ticket_from_the_fields_panel_just_assigns_it(client, agent, colleague, ticket):
    client.force_login(agent)
    response = client.post(_url("ticket-fields", ticket), _fields(ticket, assignee=colleague.pk))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.status) == (colleague.pk, Status.OPEN)


@pytest.mark.django_db
def test_unchanged_fields_form_writes_nothing(client, agent, ticket):
    client.force_login(agent)
    before = _snapshot(ticket)
    response = client.post(_url("ticket-fields", ticket), _fields(ticket))
    assert response.status_code == 302
    assert _snapshot(ticket) == before
    assert _events(ticket) == {}


@pytest.mark.django_db
def test_stale_fields_form_is_409_keeps_the_choices_and_offers_the_current_version(client, agent, supervisor, ticket):
    client.force_login(agent)
    page = client.get(_url("ticket", ticket))
    version = page.context["fields_form"]["version"].value()
    services.ticket_update(ticket=ticket, actor=supervisor, priority=Priority.URGENT)  # meanwhile
    before = _snapshot(ticket)
    data = _fields(ticket, priority=Priority.LOW, status=Status.PENDING, tags="晚点处理", version=version)
    response = client.post(_url("ticket-fields", ticket), data)
    assert response.status_code == 409
    assert _snapshot(ticket) == before
    assertContains(response, "Someone changed this ticket while you were editing.", status_code=409)
    form = response.context["fields_form"]
    assert (form["priority"].value(), form["status"].value(), form["tags"].value()) == ("low", "pending", "晚点处理")
    assertContains(response, '<option value="low" selected>Low</option>', status_code=409, html=True)
    current = ticket_version(Ticket.objects.get(pk=ticket.pk))
    assert form["version"].value() == current
    again = client.post(_url("ticket-fields", ticket), {**data, "version": form["version"].value()})
    assert again.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).priority == Priority.LOW


@pytest.mark.django_db
def test_fields_form_with_a_refused_transition_names_it_and_changes_nothing(client, agent, ticket):
    ticket = closed(ticket)
    before = _snapshot(ticket)
    client.force_login(agent)
    response = client.post(_url("ticket-fields", ticket), _fields(ticket, status=Status.OPEN))
    assert response.status_code == 409
    assertContains(response, "The status cannot change from Closed to Open.", status_code=409)
    assert response.context["fields_form"]["status"].value() == "open"
    assert _snapshot(ticket) == before


@pytest.mark.django_db
def test_fields_form_with_a_refused_transition_saves_none_of_the_other_changes(client, agent, ticket):
    ticket = closed(ticket)
    before = _snapshot(ticket)
    client.force_login(agent)
    response = client.post(_url("ticket-fields", ticket), _fields(ticket, status=Status.OPEN, priority=Priority.HIGH))
    assert response.status_code == 409
    assert _snapshot(ticket) == before


@pytest.mark.django_db
def test_fields_form_assigning_someone_outside_the_queue_is_refused(client, agent, stranger, ticket):
    before = _snapshot(ticket)
    client.force_login(agent)
    response = client.post(_url("ticket-fields", ticket), _fields(ticket, assignee=stranger.pk))
    assert response.status_code == 403
    assertContains(response, "stranger does not work this ticket&#x27;s queue.", status_code=403)
    assert response.context["fields_form"]["assignee"].value() == str(stranger.pk)
    assert _snapshot(ticket) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "error"),
    [
        ({"status": "bogus"}, "status", "Select a valid choice. bogus is not one of the available choices."),
        ({"priority": ""}, "priority", "This field is required."),
        ({"tags": "x" * 51}, "tags", "Each tag is at most 50 characters."),
        ({"version": ""}, "version", "This field is required."),
    ],
)
def test_malformed_fields_form_is_400_with_the_field_named(client, agent, ticket, change, field, error):
    before = _snapshot(ticket)
    client.force_login(agent)
    response = client.post(_url("ticket-fields", ticket), _fields(ticket, **change))
    assert response.status_code == 400
    assert response.context["fields_form"].errors[field] == [error]
    assert _snapshot(ticket) == before


# --- quick actions -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_assign_me_assigns_the_ticket_to_the_agent(client, agent, ticket):
    client.force_login(agent)
    response = client.post(_url("ticket-quick", ticket, "assign-me"))
    assert response.url == _url("ticket", ticket)
    assert Ticket.objects.get(pk=ticket.pk).assignee_id == agent.pk
    assert flashes(response) == [("success", "Assigned to you.")]
    assert "ticket.assign" in _events(ticket)


@pytest.mark.django_db
def test_solve_marks_the_ticket_solved(client, agent, ticket):
    client.force_login(agent)
    response = client.post(_url("ticket-quick", ticket, "solve"))
    assert response.url == _url("ticket", ticket)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.SOLVED
    assert flashes(response) == [("success", "Marked solved.")]


@pytest.mark.django_db
def test_solving_a_closed_ticket_says_why_not_and_changes_nothing(client, agent, ticket):
    ticket = closed(ticket)
    before = _snapshot(ticket)
    client.force_login(agent)
    response = client.post(_url("ticket-quick", ticket, "solve"), follow=True)
    assertContains(response, "The status cannot change from Closed to Solved.")
    assert _snapshot(ticket) == before


@pytest.mark.django_db
def test_a_merchant_may_not_assign_and_is_told_so(client, shop, ticket):
    client.force_login(make_merchant(shop))
    response = client.post(_url("ticket-quick", ticket, "assign-me"))
    assert flashes(response) == [("error", "You may not do this on this ticket.")]
    assert Ticket.objects.get(pk=ticket.pk).assignee_id is None


@pytest.mark.django_db
def test_unknown_quick_action_is_404_and_get_is_405(client, agent, ticket):
    client.force_login(agent)
    assert client.post(_url("ticket-quick", ticket, "delete")).status_code == 404
    assert client.get(_url("ticket-quick", ticket, "solve")).status_code == 405
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW


# --- merge ---------------------------------------------------------------------------------------------


@pytest.fixture
def duplicate(shop, queue, ticket):
    return make_ticket(shop=shop, queue=queue, customer=ticket.customer, body="同一个问题又提交了一次")


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["{ref}", " {ref_lower} "])
def test_merge_by_reference_closes_the_source_and_opens_the_target(client, agent, ticket, duplicate, typed):
    client.force_login(agent)
    target = typed.format(ref=ticket.reference, ref_lower=ticket.reference.lower())
    response = client.post(_url("ticket-merge", duplicate), {"target": target})
    assert response.url == _url("ticket", ticket)
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == (Status.CLOSED, ticket.pk)
    assert Message.objects.filter(ticket=ticket, body="同一个问题又提交了一次").exists()
    assert flashes(response) == [("success", f"{duplicate.reference} merged into {ticket.reference}.")]


@pytest.mark.django_db
def test_merge_into_an_unknown_or_hidden_ticket_gives_the_same_error(client, agent, shop, other_queue, duplicate):
    hidden = make_ticket(shop=shop, queue=other_queue)
    missing = f"T-{int(hidden.reference[2:]) + 1000:06d}"
    before = _snapshot(duplicate)
    client.force_login(agent)
    errors = {}
    for ref in (hidden.reference, missing):
        response = client.post(_url("ticket-merge", duplicate), {"target": ref})
        assert response.status_code == 400
        errors[ref] = response.context["merge_form"].errors["target"]
        assertContains(response, f"No ticket {ref} that you can see.", status_code=400)
    assert errors[hidden.reference] == [f"No ticket {hidden.reference} that you can see."]
    assert errors[missing] == [f"No ticket {missing} that you can see."]
    assert _snapshot(duplicate) == before
    assert Ticket.objects.get(pk=hidden.pk).last_seq == 1


@pytest.mark.django_db
def test_merge_into_itself_is_refused(client, agent, duplicate):
    before = _snapshot(duplicate)
    client.force_login(agent)
    response = client.post(_url("ticket-merge", duplicate), {"target": duplicate.reference})
    assert response.status_code == 400
    assert response.context["merge_form"].errors["target"] == ["A ticket cannot be merged into itself."]
    assert _snapshot(duplicate) == before


@pytest.mark.django_db
def test_merge_into_a_closed_ticket_is_refused_with_the_reason(client, agent, ticket, duplicate):
    closed(ticket)
    client.force_login(agent)
    response = client.post(_url("ticket-merge", duplicate), {"target": ticket.reference})
    assert response.status_code == 409
    assertContains(response, "Cannot merge into a closed ticket.", status_code=409)
    assert Ticket.objects.get(pk=duplicate.pk).merged_into_id is None


@pytest.mark.django_db
def test_merge_without_a_target_is_400(client, agent, duplicate):
    client.force_login(agent)
    response = client.post(_url("ticket-merge", duplicate), {"target": ""})
    assert response.status_code == 400
    assert response.context["merge_form"].errors["target"] == ["This field is required."]


@pytest.mark.django_db
def test_reply_fields_and_merge_refuse_get(client, agent, ticket):
    client.force_login(agent)
    for name in ["ticket-reply", "ticket-fields", "ticket-merge"]:
        assert client.get(_url(name, ticket)).status_code == 405


@pytest.mark.django_db
def test_assigned_ticket_page_offers_no_assign_me(client, agent, ticket):
    assigned(ticket, agent)
    client.force_login(agent)
    response = client.get(_url("ticket", ticket))
    assert 'id="assign-me"' not in response.content.decode()
