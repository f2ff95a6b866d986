"""SLA in the console: the countdown badge of inbox rows, the "at risk" view, and the ticket page's SLA panel.

Times are pinned with `clock`: tickets are created (through the services, which compute the due times) at moments
before NOW, and the pages are read at NOW, so every countdown is exact.
"""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from tests.factories import CategoryFactory, make_customer, make_ticket
from tests.tickets.views.support import clock, row_ids, set_status, view_counts
from tests.tickets.views.test_query_counts import INBOX_MAX_QUERIES, TICKET_PAGE_MAX_QUERIES, _measure
from tickets.models import SlaPolicy, Status, Ticket
from tickets.services.sla import sla_cache_clear, sla_sweep
from tickets.views.sla import duration_label

INBOX = reverse("console:inbox")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _page(ticket: Ticket) -> str:
    return reverse("console:ticket", args=[ticket.reference])


def _at(minutes_ago: int, **kwargs) -> Ticket:
    with clock(NOW - timedelta(minutes=minutes_ago)):
        return make_ticket(**kwargs)


def _badge(content: str, ticket: Ticket) -> str:
    """The SLA cell of one inbox row, tags and all."""
    row = re.search(rf'<tr data-ticket="{ticket.pk}".*?</tr>', content, re.S).group(0)
    return re.search(r'<td class="sla-cell">(.*?)</td>', row, re.S).group(1).strip()


@pytest.fixture
def policy(db):
    """First response in 60 min, resolution in 8 h, around the clock; low-priority tickets get no policy."""
    sla_cache_clear()
    policy = SlaPolicy.objects.create(
        name="标准时效",
        priorities=["normal", "high", "urgent"],
        first_response_minutes=60,
        resolution_minutes=480,
    )
    sla_cache_clear()
    yield policy
    sla_cache_clear()


@pytest.fixture
def risky(policy, shop, queue, other_queue, agent):
    """Tickets of the agent's queue overdue, due soon, fine, solved, without a policy, breached and then pending;
    and one overdue in a queue the agent does not work."""
    tickets = {
        "overdue": _at(120, shop=shop, queue=queue, subject="overdue"),
        "soon": _at(40, shop=shop, queue=queue, subject="due soon"),
        "fine": _at(5, shop=shop, queue=queue, subject="fine"),
        "solved": _at(180, shop=shop, queue=queue, subject="solved late"),
        "no_policy": _at(180, shop=shop, queue=queue, subject="no policy", priority="low"),
        "waiting": _at(100, shop=shop, queue=queue, subject="breached, then pending"),
        "hidden": _at(90, shop=shop, queue=other_queue, subject="other queue"),
    }
    with clock(NOW - timedelta(minutes=30)):
        sla_sweep(now=NOW - timedelta(minutes=30))  # "waiting" breached its first response 10 minutes ago
        tickets["waiting"] = set_status(tickets["waiting"], Status.PENDING)
    with clock(NOW):
        tickets["solved"] = set_status(tickets["solved"], Status.SOLVED)
    return {key: Ticket.objects.get(pk=t.pk) for key, t in tickets.items()}


# --- the countdown's words ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (1, "1 min"),
        (59, "1 min"),
        (60, "1 min"),
        (61, "2 min"),
        (-300, "5 min"),
        (3600, "1 h"),
        (3660, "1 h 1 min"),
        (86400, "1 d"),
        (90000, "1 d 1 h"),
    ],
)
def test_duration_label_rounds_up_to_whole_minutes(seconds, label):
    assert duration_label(seconds) == label


# --- inbox badges ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_inbox_rows_show_the_most_urgent_clock_as_a_countdown(client, agent, queue, risky):
    client.force_login(agent)
    with clock(NOW):
        content = client.get(INBOX, {"view": f"queue-{queue.pk}"}).content.decode()
    overdue, soon, fine = (_badge(content, risky[k]) for k in ("overdue", "soon", "fine"))
    assert 'class="sla sla-breached"' in overdue and ">1 h overdue<" in overdue
    assert 'class="sla sla-at_risk"' in soon and ">20 min<" in soon
    assert 'class="sla sla-ok"' in fine and ">55 min<" in fine
    # The browser keeps it ticking from the ISO due time (first response: created + 60 min).
    due = (risky["overdue"].created_at + timedelta(minutes=60)).astimezone(NOW.tzinfo)
    assert f'data-due="{due.isoformat()}"' in overdue
    assert 'title="First response due 11-23 09:00"' in overdue


@pytest.mark.django_db
def test_a_pending_ticket_with_a_policy_shows_paused_and_one_without_shows_nothing(client, agent, queue, risky):
    client.force_login(agent)
    with clock(NOW):
        content = client.get(INBOX, {"view": f"queue-{queue.pk}"}).content.decode()
    waiting = _badge(content, risky["waiting"])
    assert 'class="sla sla-paused"' in waiting and ">paused<" in waiting
    assert "data-due" not in waiting
    assert 'class="sla-flag"' in waiting  # it did breach before it was put on pending
    assert _badge(content, risky["no_policy"]) == ""


@pytest.mark.django_db
def test_the_rows_fragment_carries_the_badges_too(client, agent, queue, risky):
    client.force_login(agent)
    with clock(NOW):
        content = client.get(INBOX, {"view": f"queue-{queue.pk}", "fragment": "rows"}).content.decode()
    assert ">20 min<" in _badge(content, risky["soon"])


@pytest.mark.django_db
def test_inbox_badges_in_chinese(client, agent, queue, risky, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(agent)
    with clock(NOW):
        content = client.get(INBOX, {"view": f"queue-{queue.pk}"}).content.decode()
    assert ">超时 1 小时<" in _badge(content, risky["overdue"])
    assert ">20 分钟<" in _badge(content, risky["soon"])
    assert ">已暂停<" in _badge(content, risky["waiting"])
    assert "风险工单" in content


# --- the at-risk view -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_at_risk_view_lists_overdue_and_soon_due_tickets_soonest_first(client, agent, risky):
    client.force_login(agent)
    with clock(NOW):
        response = client.get(INBOX, {"view": "at_risk"})
    assert response.context["page"].view == "at_risk"
    # Most overdue first. Not listed: a breached ticket whose clock stands still (pending: the customer owes
    # the answer), fine, solved, no policy, and the other queue's ticket.
    assert row_ids(response) == [risky["overdue"].pk, risky["soon"].pk]
    assertContains(response, 'href="?view=at_risk" aria-current="page"')
    assertContains(response, "Soonest due first")


@pytest.mark.django_db
def test_at_risk_count_is_what_the_view_lists(client, agent, risky):
    client.force_login(agent)
    with clock(NOW):
        response = client.get(INBOX)
    assert view_counts(response)["at_risk"] == 2
    assertContains(response, '<span class="count count-risk" data-view-count="at_risk">2</span>', html=False)


@pytest.mark.django_db
def test_an_agent_sees_only_their_queues_at_risk_tickets(client, stranger, risky):
    """The stranger works the other queue: only its ticket, never the Payments queue's."""
    client.force_login(stranger)
    with clock(NOW):
        response = client.get(INBOX, {"view": "at_risk"})
    assert row_ids(response) == [risky["hidden"].pk]
    assert view_counts(response)["at_risk"] == 1
    assertNotContains(response, risky["overdue"].reference)


@pytest.mark.django_db
def test_a_supervisor_sees_every_queues_at_risk_tickets(client, supervisor, risky):
    client.force_login(supervisor)
    with clock(NOW):
        response = client.get(INBOX, {"view": "at_risk"})
    assert row_ids(response) == [risky[k].pk for k in ("overdue", "hidden", "soon")]
    assert view_counts(response)["at_risk"] == 3


@pytest.mark.django_db
def test_at_risk_view_pages_by_due_time(client, agent, policy, shop, queue):
    """Keyset pages on the due time: no row twice, none skipped, the order kept across pages."""
    tickets = [_at(59 - (i % 30), shop=shop, queue=queue, subject=f"t{i}") for i in range(55)]
    client.force_login(agent)
    with clock(NOW):
        first = client.get(INBOX, {"view": "at_risk"})
        cursor = first.context["page"].next_cursor
        second = client.get(INBOX, {"view": "at_risk", "cursor": cursor})
    seen = row_ids(first) + row_ids(second)
    assert len(row_ids(first)) == 50
    assert sorted(seen) == sorted(t.pk for t in tickets)
    due = {t.pk: t.sla_first_response_due_at for t in Ticket.objects.filter(pk__in=seen)}
    assert [due[pk] for pk in seen] == sorted(due[pk] for pk in seen)


@pytest.mark.django_db
def test_at_risk_view_query_count_does_not_grow_with_rows(
    client, agent, policy, shop, queue, django_assert_max_num_queries
):
    """Pinned like the other list pages (test_query_counts.py): the same count at 5 rows and at 30 (21 measured)."""

    def add(count: int) -> None:
        for i in range(count):
            customer = make_customer(shop, name=f"客户{i}", email=f"risk{Ticket.objects.count()}@example.com")
            _at(50 + i % 20, shop=shop, queue=queue, customer=customer, tags=["vip"])

    client.force_login(agent)
    add(5)
    with clock(NOW):
        with_5 = _measure(client, INBOX, django_assert_max_num_queries, INBOX_MAX_QUERIES, view="at_risk")
    add(25)
    with clock(NOW):
        with_30 = _measure(client, INBOX, django_assert_max_num_queries, INBOX_MAX_QUERIES, view="at_risk")
        assert len(client.get(INBOX, {"view": "at_risk"}).context["page"].tickets) == 30
    assert with_5 == with_30, f"{with_5} queries for 5 rows, {with_30} for 30"


# --- the ticket page's SLA panel ----------------------------------------------------------------------


@pytest.mark.django_db
def test_ticket_page_shows_the_sla_panel_with_each_running_clock(client, agent, risky):
    client.force_login(agent)
    with clock(NOW):
        response = client.get(_page(risky["soon"]))
    panel = re.search(r'<section class="sla-panel".*?</section>', response.content.decode(), re.S).group(0)
    assert "标准时效" in panel
    assert re.search(r"<dt>First response</dt>\s*<dd><span class=\"sla sla-at_risk\"[^>]*>20 min</span>", panel)
    assert re.search(r"<dt>Resolution</dt>\s*<dd><span class=\"sla sla-ok\"[^>]*>7 h 20 min</span>", panel)
    assert "Next response" not in panel  # not running: nobody has answered yet
    assert "SLA breached" not in panel
    assert "Applied" in panel  # the SLA event log


@pytest.mark.django_db
def test_ticket_page_shows_the_breach_and_the_sla_events(client, agent, risky):
    client.force_login(agent)
    with clock(NOW):
        response = client.get(_page(risky["waiting"]))
    panel = re.search(r'<section class="sla-panel".*?</section>', response.content.decode(), re.S).group(0)
    assert '<span class="sla sla-breached">SLA breached</span>' in panel
    assert '<span class="sla sla-paused">paused</span>' in panel
    kinds = re.findall(r'<li class="sla-event-(\w+)">', panel)
    assert kinds == ["paused", "breached", "applied"]  # newest first
    assert re.search(r"<b>Breached</b> First response", panel)


@pytest.mark.django_db
def test_ticket_page_shows_the_classifiers_intent_and_the_sentiment(client, agent, risky, settings):
    CategoryFactory(name="已付款未到账", slug="paid-not-received")
    Ticket.objects.filter(pk=risky["soon"].pk).update(
        intent="paid-not-received", intent_confidence=0.87, sentiment=-0.72
    )
    client.force_login(agent)
    response = client.get(_page(risky["soon"]))
    assertContains(response, "Classifier: 已付款未到账 (87%)")
    assertContains(response, '<span class="sentiment sentiment-very_negative" title="-0.72">Very negative</span>')
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.get(_page(risky["soon"]))
    assertContains(response, "分类器：已付款未到账 (87%)")
    assertContains(response, ">非常负面</span>")


@pytest.mark.django_db
def test_ticket_page_without_a_policy_says_so(client, agent, risky):
    client.force_login(agent)
    response = client.get(_page(risky["no_policy"]))
    assertContains(response, "No SLA policy applies to this ticket.")


@pytest.mark.django_db
def test_ticket_page_query_count_does_not_grow_with_sla_events(client, agent, risky, django_assert_max_num_queries):
    """The SLA panel is one query (its events, joined to their policy, which names the ticket's) at any length."""
    ticket = risky["soon"]
    client.force_login(agent)
    few = _measure(client, _page(ticket), django_assert_max_num_queries, TICKET_PAGE_MAX_QUERIES)
    for _ in range(6):  # each round trip through pending logs a pause and a resume
        ticket = set_status(ticket, Status.PENDING, Status.OPEN)
    many = _measure(client, _page(ticket), django_assert_max_num_queries, TICKET_PAGE_MAX_QUERIES)
    assert few == many, f"{few} queries with 1 SLA event, {many} with 13"
