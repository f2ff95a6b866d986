"""Inbox writes: bulk actions (POST /console/bulk/) and saved views — each through its service, each refusal named."""

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from helpdesk.models import AuditEvent
from helpdesk.roles import Role
from tests.factories import make_agent, make_ticket, make_user
from tests.tickets.views.support import closed, flashes
from tickets.models import SavedView, Status, Ticket

BULK = reverse("console:bulk")
SAVE_VIEW = reverse("console:saved-view-save")
INBOX = reverse("console:inbox")


def _state(*tickets: Ticket) -> list[tuple]:
    return [
        (t.assignee_id, t.status, sorted(t.tags.values_list("name", flat=True)), t.updated_at)
        for t in Ticket.objects.filter(pk__in=[x.pk for x in tickets]).order_by("pk")
    ]


def _events(ticket: Ticket, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_id=str(ticket.pk)))


@pytest.fixture
def two(shop, queue):
    return make_ticket(shop=shop, queue=queue, subject="一"), make_ticket(shop=shop, queue=queue, subject="二")


# --- bulk ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bulk_assign_me_assigns_every_selected_ticket_and_returns_to_the_list(client, agent, two):
    client.force_login(agent)
    back = f"{INBOX}?view=unassigned"
    response = client.post(BULK, {"action": "assign_me", "tickets": [t.pk for t in two], "next": back})
    assert response.status_code == 302
    assert response.url == back
    for ticket in two:
        ticket.refresh_from_db()
        assert (ticket.assignee_id, ticket.status) == (agent.pk, Status.OPEN)
        [event] = _events(ticket, "ticket.assign")
        assert event.actor_id == agent.pk
    assert flashes(response) == [("success", "2 tickets updated.")]


@pytest.mark.django_db
def test_bulk_without_next_returns_to_the_inbox(client, agent, two):
    client.force_login(agent)
    response = client.post(BULK, {"action": "assign_me", "tickets": [two[0].pk]})
    assert response.url == INBOX


@pytest.mark.django_db
def test_bulk_assign_gives_the_tickets_to_an_agent_of_their_queue(client, agent, colleague, two):
    client.force_login(agent)
    response = client.post(BULK, {"action": "assign", "assignee": colleague.pk, "tickets": [t.pk for t in two]})
    assert {t.assignee_id for t in Ticket.objects.filter(pk__in=[t.pk for t in two])} == {colleague.pk}
    assert flashes(response) == [("success", "2 tickets updated.")]


@pytest.mark.django_db
def test_bulk_assign_to_an_agent_outside_a_tickets_queue_fails_for_that_ticket_only(
    client, supervisor, colleague, shop, queue, other_queue
):
    """The supervisor selects one ticket of each queue; the colleague works only the first queue."""
    ours = make_ticket(shop=shop, queue=queue)
    theirs = make_ticket(shop=shop, queue=other_queue)
    client.force_login(supervisor)
    response = client.post(
        BULK, {"action": "assign", "assignee": colleague.pk, "tickets": [theirs.pk, ours.pk]}, follow=True
    )
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.assignee_id == colleague.pk
    assert theirs.assignee_id is None
    assertContains(response, "1 ticket updated.")
    assertContains(response, "agent-b does not work this ticket&#x27;s queue.")


@pytest.mark.django_db
def test_bulk_status_change_names_a_refused_transition_and_carries_on(client, agent, shop, queue):
    fresh = make_ticket(shop=shop, queue=queue)
    done = closed(make_ticket(shop=shop, queue=queue))
    client.force_login(agent)
    response = client.post(BULK, {"action": "status", "status": Status.PENDING, "tickets": [done.pk, fresh.pk]})
    assert Ticket.objects.get(pk=fresh.pk).status == Status.PENDING
    assert Ticket.objects.get(pk=done.pk).status == Status.CLOSED
    messages = flashes(response)
    assert ("success", "1 ticket updated.") in messages
    [error] = [text for level, text in messages if level == "error"]
    assert "The status cannot change from Closed to Pending." in error
    assert _events(fresh, "ticket.status")[0].changes == {"status": ["new", "pending"]}


@pytest.mark.django_db
def test_bulk_error_names_a_visible_ticket_by_its_reference(client, agent, shop, queue):
    done = closed(make_ticket(shop=shop, queue=queue))
    client.force_login(agent)
    response = client.post(BULK, {"action": "status", "status": Status.OPEN, "tickets": [done.pk]})
    [(_level, text)] = flashes(response)
    assert text.startswith(done.reference)


@pytest.mark.django_db
def test_bulk_tag_adds_the_tag_and_keeps_existing_ones(client, agent, shop, queue):
    tagged = make_ticket(shop=shop, queue=queue, tags=["vip"])
    plain = make_ticket(shop=shop, queue=queue)
    client.force_login(agent)
    response = client.post(BULK, {"action": "tag", "tag": " 退款 ", "tickets": [tagged.pk, plain.pk]})
    assert sorted(tagged.tags.values_list("name", flat=True)) == ["vip", "退款"]
    assert list(plain.tags.values_list("name", flat=True)) == ["退款"]
    assert _events(tagged, "ticket.update")[0].changes == {"tags": [["vip"], ["vip", "退款"]]}
    assert flashes(response) == [("success", "2 tickets updated.")]


@pytest.mark.django_db
def test_bulk_leaves_hidden_tickets_alone_and_answers_as_for_a_missing_one(client, agent, shop, queue, other_queue):
    """A hidden id is reported exactly like an id that does not exist: nothing about it leaks."""
    mine = make_ticket(shop=shop, queue=queue)
    hidden = make_ticket(shop=shop, queue=other_queue, subject="别人的秘密工单")
    missing_id = hidden.pk + 10_000
    before = _state(hidden)
    client.force_login(agent)
    response = client.post(BULK, {"action": "assign_me", "tickets": [mine.pk, hidden.pk, missing_id]}, follow=True)
    assert Ticket.objects.get(pk=mine.pk).assignee_id == agent.pk
    assert _state(hidden) == before
    assert not AuditEvent.objects.filter(object_id=str(hidden.pk), actor=agent).exists()
    content = response.content.decode()
    assert f"#{hidden.pk}: No such ticket." in content
    assert f"{missing_id}: No such ticket." in content
    assert hidden.reference not in content
    assert "别人的秘密工单" not in content


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["assign_me", "assign", "status", "tag"])
def test_bulk_on_only_hidden_tickets_changes_nothing(client, agent, shop, other_queue, action):
    hidden = make_ticket(shop=shop, queue=other_queue)
    before = _state(hidden)
    client.force_login(agent)
    data = {"action": action, "assignee": agent.pk, "status": Status.SOLVED, "tag": "x", "tickets": [hidden.pk]}
    response = client.post(BULK, data)
    assert _state(hidden) == before
    assert flashes(response) == [("error", f"#{hidden.pk}: No such ticket.")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "assign_me"}, "Select tickets first."),
        ({"action": "assign", "tickets": ["{t}"]}, "Choose an agent."),
        ({"action": "status", "tickets": ["{t}"]}, "Choose a status."),
        ({"action": "tag", "tag": "  ", "tickets": ["{t}"]}, "Type a tag."),
        ({"action": "explode", "tickets": ["{t}"]}, "Select a valid choice. explode is not one of the available"),
    ],
)
def test_bulk_with_missing_input_says_what_is_missing_and_changes_nothing(client, agent, two, data, message):
    client.force_login(agent)
    data = {k: [v.format(t=two[0].pk) for v in val] if isinstance(val, list) else val for k, val in data.items()}
    before = _state(*two)
    response = client.post(BULK, data)
    assert response.status_code == 302
    assert _state(*two) == before
    [(level, text)] = flashes(response)
    assert level == "error"
    assert text.startswith(message)


@pytest.mark.django_db
def test_bulk_refuses_get(client, agent):
    client.force_login(agent)
    assert client.get(BULK).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("next_url", ["https://evil.example/", "javascript:alert(1)"])
def test_bulk_next_pointing_off_site_returns_to_the_inbox(client, agent, two, next_url):
    client.force_login(agent)
    response = client.post(BULK, {"action": "assign_me", "tickets": [two[0].pk], "next": next_url})
    assert response.url == INBOX


@pytest.mark.django_db
def test_bulk_next_with_a_protocol_relative_url_returns_to_the_inbox(client, agent, two):
    client.force_login(agent)
    response = client.post(BULK, {"action": "assign_me", "tickets": [two[0].pk], "next": "//evil.example/"})
    assert response.url == INBOX


# --- saved views ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_saving_a_view_stores_the_query_and_opens_it(client, agent):
    client.force_login(agent)
    query = "view=unassigned&priority=high"
    response = client.post(SAVE_VIEW, {"name": " 紧急未分配 ", "query": query})
    assert response.url == f"{INBOX}?{query}"
    view = SavedView.objects.get(owner=agent)
    assert (view.name, view.query, view.shared) == ("紧急未分配", query, False)
    assert flashes(response) == [("success", "View “紧急未分配” saved.")]
    assert AuditEvent.objects.filter(action="saved_view.save", object_id=str(view.pk), actor=agent).exists()
    page = client.get(INBOX)
    assertContains(page, f'<a href="?{query.replace("&", "&amp;")}">紧急未分配</a>', html=False)


@pytest.mark.django_db
def test_saving_under_an_existing_name_replaces_that_view(client, agent):
    client.force_login(agent)
    client.post(SAVE_VIEW, {"name": "Mine high", "query": "priority=high"})
    client.post(SAVE_VIEW, {"name": "Mine high", "query": "priority=urgent"})
    assert list(SavedView.objects.filter(owner=agent).values_list("name", "query")) == [
        ("Mine high", "priority=urgent")
    ]


@pytest.mark.django_db
def test_saving_a_view_without_a_name_says_so_and_keeps_the_filters(client, agent):
    client.force_login(agent)
    response = client.post(SAVE_VIEW, {"name": "", "query": "priority=high"})
    assert response.url == f"{INBOX}?priority=high"
    assert flashes(response) == [("error", "Give the view a name.")]
    assert not SavedView.objects.exists()


@pytest.mark.django_db
def test_an_agent_may_not_share_a_view(client, agent):
    client.force_login(agent)
    response = client.post(SAVE_VIEW, {"name": "For all", "query": "priority=high", "shared": "on"})
    assert flashes(response) == [("error", "Only supervisors share views.")]
    assert not SavedView.objects.exists()


@pytest.mark.django_db
def test_only_supervisors_see_the_share_checkbox(client, agent, supervisor):
    client.force_login(agent)
    assertNotContains(client.get(INBOX), 'name="shared"')
    client.force_login(supervisor)
    assertContains(client.get(INBOX), 'name="shared"')


@pytest.mark.django_db
def test_a_shared_view_is_listed_for_other_agents_without_a_delete_button(client, supervisor, agent):
    client.force_login(supervisor)
    client.post(SAVE_VIEW, {"name": "全员: 加急", "query": "priority=urgent", "shared": "on"}, follow=True)
    view = SavedView.objects.get()
    assert (view.owner_id, view.shared) == (supervisor.pk, True)
    client.force_login(agent)
    page = client.get(INBOX)
    assert [v.name for v in page.context["saved_views"]] == ["全员: 加急"]
    assertContains(page, "全员: 加急")
    assertContains(page, "(shared)")
    assertNotContains(page, reverse("console:saved-view-delete", args=[view.pk]))


@pytest.mark.django_db
def test_a_private_view_is_not_listed_for_others(client, agent, colleague):
    client.force_login(agent)
    client.post(SAVE_VIEW, {"name": "私人视图", "query": "priority=low"}, follow=True)  # follow: reads the flash
    client.force_login(colleague)
    page = client.get(INBOX)
    assert list(page.context["saved_views"]) == []
    assertNotContains(page, "私人视图")


@pytest.mark.django_db
def test_deleting_ones_own_view_removes_it(client, agent):
    client.force_login(agent)
    client.post(SAVE_VIEW, {"name": "temp", "query": ""})
    view = SavedView.objects.get()
    assertContains(client.get(INBOX), reverse("console:saved-view-delete", args=[view.pk]))
    response = client.post(reverse("console:saved-view-delete", args=[view.pk]))
    assert response.url == INBOX
    assert not SavedView.objects.exists()
    assert flashes(response) == [("success", "View deleted.")]


@pytest.mark.django_db
@pytest.mark.parametrize("owner_role", ["supervisor", "agent"])
def test_deleting_someone_elses_view_changes_nothing_and_says_so(client, owner_role, agent, shop):
    owner = make_user(Role.SUPERVISOR, username="boss2") if owner_role == "supervisor" else make_agent(username="x")
    client.force_login(owner)
    shared = {"shared": "on"} if owner_role == "supervisor" else {}
    client.post(SAVE_VIEW, {"name": "theirs", "query": "", **shared}, follow=True)
    view = SavedView.objects.get()
    client.force_login(agent)
    theirs = client.post(reverse("console:saved-view-delete", args=[view.pk]), follow=True)
    missing = client.post(reverse("console:saved-view-delete", args=[view.pk + 1000]), follow=True)
    assert SavedView.objects.filter(pk=view.pk).exists()
    assert not AuditEvent.objects.filter(action="saved_view.delete").exists()
    for response in (theirs, missing):
        assertContains(response, '<p class="flash-error">No such view.</p>', html=True)
