"""The inbox page (/console/): views and their counts, every filter, search, keyset pages, the rows fragment."""

import base64
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateNotUsed, assertTemplateUsed

from tests.factories import CategoryFactory, make_customer, make_ticket
from tests.tickets.views.support import assigned, clock, next_link, row_ids, set_status, view_counts
from tickets import services
from tickets.models import Channel, Priority, Status, Ticket

INBOX = reverse("console:inbox")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _rows(client, query: str = "") -> list[int]:
    response = client.get(f"{INBOX}?{query}")
    assert response.status_code == 200
    return row_ids(response)


# --- views ---------------------------------------------------------------------------------------------


@pytest.fixture
def worklist(shop, queue, other_queue, agent, colleague):
    """One of each: the agent's own, a colleague's, unassigned in the agent's queue, unassigned elsewhere, and the
    agent's own but solved (views list unsolved work only)."""
    return {
        "mine": assigned(make_ticket(shop=shop, queue=queue, subject="mine"), agent),
        "colleague": assigned(make_ticket(shop=shop, queue=queue, subject="colleague's"), colleague),
        "unassigned": make_ticket(shop=shop, queue=queue, subject="unassigned here"),
        "elsewhere": make_ticket(shop=shop, queue=other_queue, subject="unassigned elsewhere"),
        "mine_solved": set_status(
            assigned(make_ticket(shop=shop, queue=queue, subject="mine, solved"), agent), Status.SOLVED
        ),
    }


@pytest.mark.django_db
def test_inbox_opens_on_the_users_own_unsolved_tickets(client, agent, worklist):
    client.force_login(agent)
    response = client.get(INBOX)
    assertTemplateUsed(response, "console/inbox.html")
    assert response.context["page"].view == "mine"
    assert row_ids(response) == [worklist["mine"].pk]
    assertContains(response, 'href="?view=mine" aria-current="page"')


@pytest.mark.django_db
def test_unassigned_view_shows_unassigned_tickets_of_the_agents_queues_only(client, agent, worklist):
    client.force_login(agent)
    assert _rows(client, "view=unassigned") == [worklist["unassigned"].pk]


@pytest.mark.django_db
def test_unassigned_view_of_a_supervisor_spans_every_queue(client, supervisor, worklist):
    client.force_login(supervisor)
    assert set(_rows(client, "view=unassigned")) == {worklist["unassigned"].pk, worklist["elsewhere"].pk}


@pytest.mark.django_db
def test_queue_view_shows_the_queues_unsolved_tickets(client, agent, queue, worklist):
    client.force_login(agent)
    expected = {worklist["mine"].pk, worklist["colleague"].pk, worklist["unassigned"].pk}
    assert set(_rows(client, f"view=queue-{queue.pk}")) == expected


@pytest.mark.django_db
def test_all_view_of_a_supervisor_shows_every_unsolved_ticket(client, supervisor, worklist):
    client.force_login(supervisor)
    expected = {t.pk for key, t in worklist.items() if key != "mine_solved"}
    assert set(_rows(client, "view=all")) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("view", ["all", "queue-{other_queue}", "queue-abc", "queue-", "nonsense"])
def test_a_view_the_agent_may_not_use_falls_back_to_mine(client, agent, other_queue, worklist, view):
    client.force_login(agent)
    response = client.get(INBOX, {"view": view.format(other_queue=other_queue.pk)})
    assert response.status_code == 200
    assert response.context["page"].view == "mine"
    assert row_ids(response) == [worklist["mine"].pk]
    assert "all" not in view_counts(response)
    assert f"queue-{other_queue.pk}" not in view_counts(response)


@pytest.mark.django_db
def test_view_counts_are_the_unsolved_tickets_each_view_would_list(client, agent, queue, worklist):
    client.force_login(agent)
    response = client.get(INBOX)
    assert view_counts(response) == {"mine": 1, "unassigned": 1, "at_risk": 0, f"queue-{queue.pk}": 3}
    assertContains(response, f'data-view-count="queue-{queue.pk}">3</span>', html=False)


@pytest.mark.django_db
def test_view_counts_of_a_supervisor_include_every_queue_and_all(client, supervisor, queue, other_queue, worklist):
    assigned(worklist["unassigned"], supervisor)
    client.force_login(supervisor)
    response = client.get(INBOX, {"view": "all"})
    assert view_counts(response) == {
        "mine": 1,
        "unassigned": 1,
        "at_risk": 0,
        f"queue-{other_queue.pk}": 1,
        f"queue-{queue.pk}": 3,
        "all": 4,
    }


@pytest.mark.django_db
def test_empty_view_says_so(client, colleague, shop, other_queue):
    make_ticket(shop=shop, queue=other_queue)
    client.force_login(colleague)
    response = client.get(INBOX)
    assert row_ids(response) == []
    assertContains(response, "Nothing here. Well done!")


# --- filters -------------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(shop, queue, other_queue, agent):
    """Tickets that differ in one attribute each, named for that attribute; all unsolved unless named so."""
    parent = CategoryFactory(name="支付问题")
    child = CategoryFactory(name="重复扣款", parent=parent)
    with clock(datetime(2024, 1, 11, 0, 30, tzinfo=SHANGHAI)):  # 2024-01-10 16:30 UTC: the date is Shanghai's
        old = make_ticket(shop=shop, queue=queue, subject="old")
    tickets = {
        "old": old,
        "plain": make_ticket(shop=shop, queue=queue, subject="plain"),
        "email_high": make_ticket(shop=shop, queue=queue, channel=Channel.EMAIL, priority=Priority.HIGH),
        "chat_urgent": make_ticket(shop=shop, queue=queue, channel=Channel.CHAT, priority=Priority.URGENT),
        "tagged": make_ticket(shop=shop, queue=queue, tags=["退款", "vip"]),
        "parent_cat": make_ticket(shop=shop, queue=queue, category=parent),
        "child_cat": make_ticket(shop=shop, queue=queue, category=child),
        "assigned": assigned(make_ticket(shop=shop, queue=queue), agent),
        "other_queue": make_ticket(shop=shop, queue=other_queue),
        "pending": set_status(make_ticket(shop=shop, queue=queue), Status.PENDING),
        "solved": set_status(make_ticket(shop=shop, queue=queue), Status.SOLVED),
    }
    ids = {"parent": parent.pk, "child": child.pk, "agent": agent.pk, "other_queue": other_queue.pk}
    return tickets, ids


UNSOLVED_NAMES = {
    "old",
    "plain",
    "email_high",
    "chat_urgent",
    "tagged",
    "parent_cat",
    "child_cat",
    "assigned",
    "other_queue",
    "pending",
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", UNSOLVED_NAMES),
        ("status=pending", {"pending"}),
        ("status=solved", {"solved"}),
        ("status=pending&status=solved", {"pending", "solved"}),
        ("priority=high", {"email_high"}),
        ("priority=high&priority=urgent", {"email_high", "chat_urgent"}),
        ("channel=email", {"email_high"}),
        ("channel=chat", {"chat_urgent"}),
        ("queue={other_queue}", {"other_queue"}),
        ("category={parent}", {"parent_cat", "child_cat"}),
        ("category={child}", {"child_cat"}),
        ("assignee={agent}", {"assigned"}),
        ("assignee=0", UNSOLVED_NAMES - {"assigned"}),
        ("tag=退款", {"tagged"}),
        ("tag=vip&priority=high", set()),
        ("date_from=2024-01-11&date_to=2024-01-11", {"old"}),
        ("date_to=2024-01-10", set()),
        ("date_from=2024-01-12", UNSOLVED_NAMES - {"old"}),
    ],
)
def test_each_filter_narrows_the_all_view(client, supervisor, catalogue, query, expected):
    tickets, ids = catalogue
    client.force_login(supervisor)
    rows = _rows(client, f"view=all&{query.format(**ids)}")
    assert {name for name, t in tickets.items() if t.pk in rows} == expected
    assert len(rows) == len(expected)


@pytest.mark.django_db
def test_filters_apply_within_the_chosen_view(client, agent, catalogue):
    tickets, _ids = catalogue
    client.force_login(agent)
    assert _rows(client, "view=mine&priority=high") == []
    assert _rows(client, "view=mine&assignee=0") == []
    assert _rows(client, "view=unassigned&channel=email") == [tickets["email_high"].pk]


@pytest.mark.django_db
def test_chosen_filters_are_shown_selected_in_the_filter_bar(client, supervisor, catalogue):
    _tickets, ids = catalogue
    client.force_login(supervisor)
    response = client.get(INBOX, {"view": "all", "priority": "high", "queue": ids["other_queue"], "tag": "退款"})
    assertContains(response, '<option value="high" selected>')
    assertContains(response, f'<option value="{ids["other_queue"]}" selected>')
    assertContains(response, 'name="tag" value="退款"')


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["queue=999999", "assignee=-1", "date_from=yesterday", "status=bogus"])
def test_a_filter_that_is_not_understood_is_reported_and_the_view_still_lists(client, supervisor, catalogue, query):
    client.force_login(supervisor)
    response = client.get(f"{INBOX}?view=all&{query}")
    assert response.status_code == 200
    assertContains(response, "Some filters were not understood and were ignored")
    assert len(row_ids(response)) == len(UNSOLVED_NAMES)


@pytest.fixture
def three_in_order(shop, queue, agent):
    """a, b, c created in that order; then a gets a reply, so a has the latest activity."""
    a = make_ticket(shop=shop, queue=queue, subject="a")
    b = make_ticket(shop=shop, queue=queue, subject="b")
    c = make_ticket(shop=shop, queue=queue, subject="c")
    services.agent_reply_post(ticket=a, actor=agent, body="回复")
    return a.pk, b.pk, c.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sort", "order"),
    [("", "acb"), ("-updated", "acb"), ("updated", "bca"), ("-created", "cba"), ("created", "abc")],
)
def test_sort_orders_by_activity_or_creation_either_way(client, agent, queue, three_in_order, sort, order):
    by_name = dict(zip("abc", three_in_order, strict=True))
    client.force_login(agent)
    assert _rows(client, f"view=queue-{queue.pk}&sort={sort}") == [by_name[n] for n in order]


# --- search --------------------------------------------------------------------------------------------


@pytest.fixture
def searchable(shop, queue, agent):
    """Tickets that each answer one kind of search; a decoy shares nothing with any query below."""
    lisi = make_customer(shop, name="李四", email="Li.Si@Example.com", phone="+86 138-1234-5678")
    order = services.order_upsert(shop=shop, order_no="DD20240101001", actor=None, customer=lisi, product="月卡")
    by_subject_zh = make_ticket(shop=shop, queue=queue, subject="充值卡无法激活")
    by_subject_en = make_ticket(shop=shop, queue=queue, subject="Refund request for Steam card")
    by_message = make_ticket(shop=shop, queue=queue, subject="问题", body="我收到的序列号不对")
    by_reply = make_ticket(shop=shop, queue=queue, subject="问题")
    services.agent_reply_post(ticket=by_reply, actor=agent, body="Please try the redeem page again")
    by_note = make_ticket(shop=shop, queue=queue, subject="问题")
    services.internal_note_post(ticket=by_note, actor=agent, body="customer is a known chargeback risk")
    by_order = make_ticket(shop=shop, queue=queue, subject="订单问题", order=order, customer=lisi)
    decoy = make_ticket(
        shop=shop,
        queue=queue,
        subject="其他",
        body="别的",
        customer=make_customer(shop, name="王五", email="wangwu@example.com", phone="13900001111"),
    )
    solved = set_status(make_ticket(shop=shop, queue=queue, subject="已解决的充值卡问题"), Status.SOLVED)
    return {
        "subject_zh": by_subject_zh,
        "subject_en": by_subject_en,
        "message": by_message,
        "reply": by_reply,
        "note": by_note,
        "order": by_order,
        "decoy": decoy,
        "solved": solved,
    }


def _search(client, q: str, view: str = "all") -> list[int]:
    return _rows(client, f"view={view}&q={q}")


@pytest.mark.django_db
def test_search_by_reference_accepts_the_full_form_and_the_short_one(client, supervisor, searchable):
    target = searchable["message"]
    number = int(target.reference.removeprefix("T-"))
    client.force_login(supervisor)
    for q in [target.reference, target.reference.lower(), f"t{number}", f"T{number}", f"T-{number}"]:
        assert _search(client, q) == [target.pk], q


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("无法激活", {"subject_zh"}),
        ("充值卡", {"subject_zh", "solved"}),
        ("refund", {"subject_en"}),
        ("STEAM CARD", {"subject_en"}),
        ("序列号", {"message"}),
        ("redeem page", {"reply"}),
        ("DD20240101001", {"order"}),
        ("li.si@example.com", {"order"}),
        ("LI.SI@EXAMPLE.COM", {"order"}),
        ("13812345678", {"order"}),
        ("+86 138-1234-5678", {"order"}),
        ("138 1234 5678", {"order"}),
        ("no such thing", set()),
    ],
)
def test_search_matches_subject_public_messages_order_email_and_phone(client, supervisor, searchable, q, expected):
    client.force_login(supervisor)
    rows = _search(client, q)
    assert {name for name, t in searchable.items() if t.pk in rows} == expected
    assert len(rows) == len(expected)


@pytest.mark.django_db
def test_internal_notes_are_not_searchable(client, supervisor, agent, queue, searchable):
    """Notes may hold things the desk keeps to itself; a search that found them would hint at them."""
    client.force_login(supervisor)
    assert _search(client, "chargeback") == []
    client.force_login(agent)
    assert _search(client, "chargeback", view=f"queue-{queue.pk}") == []


@pytest.mark.django_db
def test_search_covers_solved_tickets_but_a_chosen_status_still_applies(client, supervisor, searchable):
    client.force_login(supervisor)
    assert _search(client, "已解决") == [searchable["solved"].pk]
    assert _rows(client, "view=all&q=充值卡&status=new") == [searchable["subject_zh"].pk]


@pytest.mark.django_db
def test_search_looks_through_every_visible_ticket_whatever_the_view(client, agent, queue, searchable):
    """Typed into "Mine", a search still finds the queue's tickets the agent may see (like Zendesk's search)."""
    client.force_login(agent)
    assert _search(client, "序列号", view=f"queue-{queue.pk}") == [searchable["message"].pk]
    assert _search(client, "序列号", view="mine") == [searchable["message"].pk]


@pytest.mark.django_db
def test_search_term_is_kept_in_the_search_box(client, supervisor, searchable):
    client.force_login(supervisor)
    response = client.get(INBOX, {"view": "all", "q": "充值卡"})
    assertContains(response, 'name="q" value="充值卡"')


# --- keyset pages --------------------------------------------------------------------------------------


@pytest.fixture
def many(shop, queue):
    """63 tickets in groups of 7 stamped with the same instant: page boundaries fall inside a group of ties."""
    customer = make_customer(shop)
    ids = []
    for group in range(9):
        with clock(datetime(2024, 3, 1, 9, group, tzinfo=SHANGHAI)):
            ids += [
                make_ticket(shop=shop, queue=queue, customer=customer, subject=f"批量 {group}").pk for _ in range(7)
            ]
    return ids


def _walk(client, first_query: str) -> list[list[int]]:
    pages, query = [], first_query
    while query is not None:
        response = client.get(f"{INBOX}?{query.lstrip('?')}")
        assert response.status_code == 200
        pages.append(row_ids(response))
        query = next_link(response)
        assert len(pages) < 10, "the cursor links loop"
    return pages


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["-updated", "updated", "-created", "created"])
def test_older_tickets_link_pages_through_every_ticket_once_in_order(client, agent, queue, many, sort):
    client.force_login(agent)
    pages = _walk(client, f"view=queue-{queue.pk}&sort={sort}")
    assert [len(p) for p in pages] == [50, 13]
    seen = [pk for page in pages for pk in page]
    field = sort.lstrip("-")
    order = [f"-{field}_at", "-pk"] if sort.startswith("-") else [f"{field}_at", "pk"]
    assert seen == list(Ticket.objects.filter(pk__in=many).order_by(*order).values_list("pk", flat=True))


@pytest.mark.django_db
def test_older_tickets_link_keeps_view_and_filters(client, agent, queue, many):
    client.force_login(agent)
    response = client.get(INBOX, {"view": f"queue-{queue.pk}", "q": "批量", "sort": "created"})
    link = next_link(response)
    assert f"view=queue-{queue.pk}" in link
    assert "sort=created" in link
    assert "cursor=" in link
    assert len(row_ids(client.get(f"{INBOX}{link}"))) == 13


@pytest.mark.django_db
def test_exactly_one_page_of_tickets_has_no_older_link(client, agent, queue, shop):
    customer = make_customer(shop)
    for _ in range(50):
        make_ticket(shop=shop, queue=queue, customer=customer)
    client.force_login(agent)
    response = client.get(INBOX, {"view": f"queue-{queue.pk}"})
    assert len(row_ids(response)) == 50
    assert next_link(response) is None


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


GARBAGE_CURSORS = [
    pytest.param("garbage", id="not-base64-json"),
    pytest.param("!!!", id="punctuation"),
    pytest.param("%00", id="nul-byte"),
    pytest.param(_b64("not json"), id="base64-of-text"),
    pytest.param(_b64("5"), id="a-number"),
    pytest.param(_b64("[1, 2]"), id="number-for-date"),
    pytest.param(_b64("[null, 1]"), id="null-date"),
    pytest.param(_b64('{"a": 1}'), id="an-object"),
    pytest.param(_b64('["yesterday", 1]'), id="unparseable-date"),
    pytest.param(_b64('["2024-03-01T09:00:00+08:00", "x"]'), id="text-id"),
    pytest.param(_b64('["2024-03-01T09:00:00+08:00", NaN]'), id="nan-id"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", GARBAGE_CURSORS)
def test_a_garbage_cursor_is_ignored_and_the_first_page_shown(client, agent, queue, many, cursor):
    client.force_login(agent)
    first = _rows(client, f"view=queue-{queue.pk}")
    response = client.get(INBOX, {"view": f"queue-{queue.pk}", "cursor": cursor})
    assert response.status_code == 200
    assert row_ids(response) == first


@pytest.mark.django_db
def test_a_cursor_with_an_infinite_id_is_ignored(client, agent, queue, many):
    client.force_login(agent)
    cursor = _b64('["2024-03-01T09:00:00+08:00", Infinity]')
    response = client.get(INBOX, {"view": f"queue-{queue.pk}", "cursor": cursor})
    assert response.status_code == 200


@pytest.mark.django_db
def test_an_overlong_cursor_is_reported_and_the_first_page_shown(client, agent, queue, many):
    client.force_login(agent)
    response = client.get(INBOX, {"view": f"queue-{queue.pk}", "cursor": "x" * 300})
    assert response.status_code == 200
    assert len(row_ids(response)) == 50
    assertContains(response, "Some filters were not understood")


@pytest.mark.django_db
def test_older_tickets_link_keeps_every_value_of_a_repeated_filter(client, agent, queue, many):
    client.force_login(agent)
    response = client.get(f"{INBOX}?view=queue-{queue.pk}&status=new&status=pending")
    link = next_link(response)
    assert "status=new" in link
    assert "status=pending" in link


# --- the rows fragment ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rows_fragment_is_only_the_table_of_the_same_rows(client, agent, queue, worklist):
    client.force_login(agent)
    page = client.get(INBOX, {"view": f"queue-{queue.pk}"})
    fragment = client.get(INBOX, {"view": f"queue-{queue.pk}", "fragment": "rows"})
    assert fragment.status_code == 200
    assertTemplateUsed(fragment, "console/_inbox_rows.html")
    assertTemplateNotUsed(fragment, "console/inbox.html")
    body = fragment.content.decode().strip()
    assert body.startswith('<table class="tickets">')
    assertNotContains(fragment, "<html")
    assertNotContains(fragment, 'class="views"')
    assert row_ids(fragment) == row_ids(page)


@pytest.mark.django_db
def test_rows_fragment_applies_filters_and_carries_the_older_link(client, agent, queue, many):
    client.force_login(agent)
    fragment = client.get(INBOX, {"view": f"queue-{queue.pk}", "fragment": "rows", "sort": "created"})
    assert len(row_ids(fragment)) == 50
    assert "cursor=" in next_link(fragment)


@pytest.mark.django_db
def test_rows_show_reference_subject_customer_order_and_tags(client, supervisor, shop, queue):
    customer = make_customer(shop, name="赵六", tier="vip")
    order = services.order_upsert(shop=shop, order_no="DD-77", actor=None, customer=customer)
    ticket = make_ticket(shop=shop, queue=queue, customer=customer, order=order, subject="卡密无效", tags=["退款"])
    client.force_login(supervisor)
    response = client.get(INBOX, {"view": "all"})
    content = response.content.decode()
    for text in [ticket.reference, "卡密无效", "赵六", "VIP", "DD-77", '<span class="tag">退款</span>']:
        assert text in content, text
    assert f'data-href="{reverse("console:ticket", args=[ticket.reference])}"' in content
