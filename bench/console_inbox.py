"""Console inbox and ticket page at 1,000,000 tickets, beside the plain foreign-key query floor (same run).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carddesk_bench REDIS_URL=redis://127.0.0.1:6379/8 \\
    DJANGO_SETTINGS_MODULE=helpdesk.settings.local .venv/bin/python bench/console_inbox.py [--tickets 1000000]

Seeds a dedicated database (created if missing, refused if it looks like real data) through COPY, then
times real requests through Django's test Client (force_login, in process: URL routing, middleware, session,
policy, selectors, templates) and the bare ORM queries a page cannot do without. See bench/README.md.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import platform
import random
import re
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._db import connect, database_config, dedicated_database_url

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DEFAULT_NAME = "carddesk_bench"
MARKER = "carddesk-bench"
REFUSED_NAMES = {"carddesk", "postgres", "template0", "template1"}


def bench_database_url() -> str:
    return dedicated_database_url(DEFAULT_NAME, REFUSED_NAMES, "it truncates what it seeds")


EXPLAIN_FILE = BENCH / "console_inbox-last-explain.txt"
RESULTS_FILE = BENCH / "console_inbox-last-results.json"
NEXT_LINK = re.compile(r'href="([^"]+)" rel="next"')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000, help="tickets to seed (default 1,000,000)")
    parser.add_argument("--messages-per-ticket", type=int, default=3, help="average messages per ticket (default 3)")
    parser.add_argument("--iterations", type=int, default=200, help="timed iterations per case (default 200)")
    parser.add_argument(
        "--max-seconds-per-case",
        type=float,
        default=60.0,
        help="stop a case early after this much time once it has 10 samples (default 60)",
    )
    parser.add_argument("--deep-pages", type=int, default=20, help="next-cursor hops for the deep page (default 20)")
    parser.add_argument("--reuse", action="store_true", help="keep the seeded data if it has the requested size")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the data and the samples")
    parser.add_argument("--no-explain", action="store_true", help=f"skip EXPLAIN ANALYZE into {EXPLAIN_FILE.name}")
    return parser.parse_args()


# --- the dedicated database ---------------------------------------------------------------------------------


def database_marker(url: str) -> str | None:
    """Create the database if it is missing; return its comment (the bench's marker) or None."""
    from psycopg import sql

    name = database_config(url)["NAME"]
    with connect(url, "postgres") as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if row is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            set_marker(url, "created")
            print(f"created database {name}")
            return f"{MARKER} created"
        return row[0]


def set_marker(url: str, state: str) -> None:
    from psycopg import sql

    name = database_config(url)["NAME"]
    with connect(url, "postgres") as conn:
        comment = sql.Literal(f"{MARKER} {state}")
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), comment))


def check_is_bench_database(url: str, marker: str | None) -> None:
    """Refuse a database holding tickets (or users) that the bench did not create."""
    name = database_config(url)["NAME"]
    with connect(url, name) as conn:
        has_tables = conn.execute("SELECT to_regclass('tickets_ticket') IS NOT NULL").fetchone()[0]
        foreign = tickets = users = 0
        if has_tables:
            tickets = conn.execute("SELECT count(*) FROM (SELECT 1 FROM tickets_ticket LIMIT 1) t").fetchone()[0]
            foreign = conn.execute(
                "SELECT count(*) FROM (SELECT 1 FROM tickets_ticket t JOIN helpdesk_shop s ON s.id = t.shop_id "
                "WHERE s.slug NOT LIKE 'bench-shop-%' LIMIT 1) f"
            ).fetchone()[0]
            users = conn.execute(
                "SELECT count(*) FROM (SELECT 1 FROM auth_user WHERE username NOT LIKE 'bench-%' LIMIT 1) u"
            ).fetchone()[0]
    if foreign:
        raise SystemExit(f"Refusing: database {name!r} holds tickets the bench did not create.")
    if not (marker or "").startswith(MARKER):
        if tickets or users:
            raise SystemExit(f"Refusing: database {name!r} was not created by the bench and is not empty.")
        set_marker(url, "adopted")


def marker_fields(marker: str | None) -> dict[str, str]:
    return dict(part.split("=", 1) for part in (marker or "").split() if "=" in part)


# --- timing -----------------------------------------------------------------------------------------------


@dataclass
class Result:
    group: str
    case: str
    n: int
    p50: float
    p95: float
    queries: int
    floor: str | None = None
    ratio: float | None = None
    note: str = ""
    sql: list[tuple[float, str]] = field(default_factory=list, repr=False)


def pad(text: str, width: int) -> str:
    """Left-justify for a terminal: CJK characters take two columns."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - columns)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))
    return ordered[index]


def measure(
    group: str,
    case: str,
    run: Callable[[int], object],
    *,
    iterations: int,
    budget: float,
    floor: str | None = None,
    note: str = "",
) -> Result:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(3):  # warm-up: caches, prepared plans, imported templates
        run(i)
    samples: list[float] = []
    spent = 0.0
    for i in range(iterations):
        started = time.perf_counter()
        run(i)
        elapsed = time.perf_counter() - started
        samples.append(elapsed)
        spent += elapsed
        if spent > budget and len(samples) >= 10:
            break
    with CaptureQueriesContext(connection) as captured:
        run(0)
    sql = [(float(q["time"]), q["sql"]) for q in captured.captured_queries]
    result = Result(
        group,
        case,
        len(samples),
        statistics.median(samples) * 1000,
        percentile(samples, 0.95) * 1000,
        len(sql),
        floor=floor,
        note=note,
        sql=sql,
    )
    print(f"  {group:<10} {pad(case, 44)} p50 {result.p50:8.2f} ms  p95 {result.p95:8.2f} ms  q {result.queries}")
    return result


# --- the run ----------------------------------------------------------------------------------------------


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.local")
    os.environ.setdefault("DEBUG", "0")  # as in production: no debug cursor, no template debug
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def seed_if_needed(url: str, args: argparse.Namespace, marker: str | None) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from bench import _seed

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"migrate: {time.perf_counter() - started:.1f}s")
    fields = marker_fields(marker)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tickets_ticket")
        have = cursor.fetchone()[0]
    wanted = {"tickets": str(args.tickets), "messages_per_ticket": str(args.messages_per_ticket)}
    complete = bool(marker) and "complete" in marker and have == args.tickets
    if args.reuse and complete and all(fields.get(k) == v for k, v in wanted.items()):
        print(f"reusing the seeded data: {have:,} tickets ({marker})")
        return {"reused": True, "marker": marker}
    print(f"seeding {args.tickets:,} tickets, ~{args.messages_per_ticket} messages each (COPY, indexes in place)…")
    set_marker(url, "seeding")
    plan = _seed.SeedPlan(tickets=args.tickets, messages_per_ticket=args.messages_per_ticket, seed=args.seed)
    report = _seed.seed(plan)
    state = " ".join(f"{k}={v}" for k, v in wanted.items())
    set_marker(url, f"complete {state} seed={args.seed} seeded_at={int(plan.now)}")
    for label, seconds in report.seconds.items():
        print(f"  {label:<42} {seconds:8.1f} s")
    return {"reused": False, "rows": report.rows, "seconds": report.seconds}


def table_sizes() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_size_pretty(pg_table_size(oid)), pg_size_pretty(pg_indexes_size(oid)), "
            "reltuples::bigint FROM pg_class WHERE relname IN ('tickets_ticket', 'tickets_message', "
            "'tickets_customer', 'tickets_order') ORDER BY relname"
        )
        return {name: f"{int(rows):,} rows, table {table}, indexes {indexes}" for name, table, indexes, rows in cursor}


@dataclass
class Actor:
    label: str
    user: object
    queue_ids: list[int]
    search_view: str  # the view the search box submits with
    views: list[str]


def pick_actors() -> tuple[Actor, Actor]:
    """The agent with 3 queues who sees the most unsolved work (a busy but ordinary agent), and the supervisor."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Q

    from tickets.models import Ticket
    from tickets.permissions import TicketPolicy
    from tickets.selectors.inbox import UNSOLVED

    User = get_user_model()
    per_queue = dict(
        Ticket.objects.filter(status__in=UNSOLVED)
        .values_list("queue_id")
        .annotate(c=Count("pk", filter=Q(status__in=UNSOLVED)))
        .values_list("queue_id", "c")
    )
    best = None
    for user in User.objects.filter(username__startswith="bench-agent").order_by("pk"):
        scope = TicketPolicy.scope(user)
        load = sum(per_queue.get(q, 0) for q in scope.queue_ids)
        if len(scope.queue_ids) == 3 and (best is None or load > best[0]):
            best = (load, user, sorted(scope.queue_ids, key=lambda q: -per_queue.get(q, 0)))
    if best is None:
        raise SystemExit("no bench agent with 3 queues: reseed")
    _load, agent, queue_ids = best
    supervisor = User.objects.get(username="bench-supervisor")
    big = queue_ids[0]
    return (
        Actor("agent", agent, queue_ids, f"queue-{big}", ["mine", "unassigned", f"queue-{big}"]),
        Actor("supervisor", supervisor, [], "all", ["mine", "unassigned", "all"]),
    )


def get_ok(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


def deep_url(client, first: str, hops: int) -> tuple[str, int]:
    """Follow the page's own "older tickets" link `hops` times (or until the last page)."""
    url, page = first, 1
    for _ in range(hops):
        match = NEXT_LINK.search(get_ok(client, url).content.decode())
        if not match:
            break
        url = "/console/" + html.unescape(match.group(1))
        page += 1
    return url, page


def search_terms(actor: Actor, rng: random.Random) -> list[tuple[str, str]]:
    """(label, q): exact identifiers, Chinese words of 2 characters (no pg_trgm trigram) and 4, a Chinese word that
    matches nothing, a common English word, and a transaction id that occurs in one message."""
    from tickets.models import Message, Ticket

    tickets = Ticket.objects.all()
    if actor.queue_ids:
        tickets = tickets.filter(queue_id=int(actor.search_view.removeprefix("queue-")))
    top = tickets.order_by("-id").values_list("id", flat=True).first() or 1
    sample = tickets.filter(id__lte=rng.randint(1, top)).order_by("-id")
    reference = sample.values_list("reference", flat=True).first()
    order_no = sample.filter(order__isnull=False).values_list("order__order_no", flat=True).first()
    rare = (
        Message.objects.filter(ticket__in=sample.values("id")[:2000], body__contains="TX", is_internal=False)
        .values_list("body", flat=True)
        .first()
    )
    token = re.search(r"TX\d{8}", rare or "")
    terms = [
        ("reference", reference),
        ("order no", order_no),
        ("zh 2 chars, common 卡密", "卡密"),
        ("zh 4 chars, common 补发卡密", "补发卡密"),
        ("zh 2 chars, no match 黑卡", "黑卡"),
        ("en word refund", "refund"),
        ("rare token TX…", token.group(0) if token else ""),
    ]
    return [(label, q) for label, q in terms if q]


def ticket_refs(actor: Actor, rng: random.Random, count: int) -> list[str]:
    """Random visible tickets: half from the actor's unsolved work, half from anywhere they may look."""
    from tickets.models import Ticket
    from tickets.permissions import TicketPolicy
    from tickets.selectors.inbox import UNSOLVED

    top = Ticket.objects.order_by("-id").values_list("id", flat=True).first()
    base = Ticket.objects.filter(queue_id__in=actor.queue_ids) if actor.queue_ids else Ticket.objects.all()
    ids = [rng.randint(1, top) for _ in range(count * 40)]
    anywhere = list(base.filter(pk__in=ids).values_list("reference", flat=True)[: count // 2])
    unsolved = list(base.filter(status__in=UNSOLVED).order_by("-updated_at").values_list("reference", flat=True)[:2000])
    refs = anywhere + rng.sample(unsolved, min(len(unsolved), count - len(anywhere)))
    visible = set(TicketPolicy.visible_to(actor.user).filter(reference__in=refs).values_list("reference", flat=True))
    assert visible == set(refs), "sampled tickets must be visible to the actor"
    rng.shuffle(refs)
    return refs


def run_actor(actor: Actor, args: argparse.Namespace, rng: random.Random) -> list[Result]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tickets import selectors
    from tickets.models import Message, Ticket
    from tickets.permissions import TicketPolicy
    from tickets.selectors.inbox import UNSOLVED

    user_model = get_user_model()
    results: list[Result] = []
    group = actor.label
    opts = {"iterations": args.iterations, "budget": args.max_seconds_per_case}
    client = Client()
    client.force_login(actor.user)
    print(f"{group}: {actor.user.get_username()} queues={actor.queue_ids or 'all (supervisor)'}")

    # floors: the plain foreign-key queries the pages cannot do without
    qids = actor.queue_ids
    floor_qs = Ticket.objects.filter(status__in=UNSOLVED)
    if qids:
        floor_qs = floor_qs.filter(queue_id__in=qids)
    inbox_floor = "floor: FK query, first 50 rows"
    results.append(measure(group, inbox_floor, lambda i: list(floor_qs.order_by("-updated_at", "-id")[:50]), **opts))
    refs = ticket_refs(actor, rng, max(args.iterations, 50))

    def ticket_floor(i: int) -> None:
        ticket = Ticket.objects.get(reference=refs[i % len(refs)])
        list(Message.objects.filter(ticket_id=ticket.pk).order_by("seq"))

    page_floor = "floor: ticket by reference + messages"
    results.append(measure(group, page_floor, ticket_floor, **opts))
    count_floor = "floor: FK count of unsolved"
    results.append(measure(group, count_floor, lambda i: floor_qs.count(), **opts))

    # inbox pages: first page and a deep page reached through the page's own next links
    for view in actor.views:
        first = f"/console/?{urlencode({'view': view})}"
        results.append(
            measure(group, f"inbox {view} p1", lambda i, u=first: get_ok(client, u), floor=inbox_floor, **opts)
        )
        deep, page = deep_url(client, first, args.deep_pages)
        if page > 1:
            results.append(
                measure(group, f"inbox {view} p{page}", lambda i, u=deep: get_ok(client, u), floor=inbox_floor, **opts)
            )
    for label, q in search_terms(actor, rng):
        url = f"/console/?{urlencode({'view': actor.search_view, 'q': q})}"
        results.append(
            measure(
                group,
                f"search {label}",
                lambda i, u=url: get_ok(client, u),
                floor=inbox_floor,
                note=f"view={actor.search_view} q={q}",
                **opts,
            )
        )
    results.append(
        measure(
            group,
            "ticket page (random visible)",
            lambda i: get_ok(client, f"/console/t/{quote(refs[i % len(refs)])}/"),
            floor=page_floor,
            **opts,
        )
    )

    # the parts of every console request: the policy scope (guardian look-ups) and the view counts
    def fresh_scope(i: int) -> None:
        TicketPolicy.scope(user_model.objects.get(pk=actor.user.pk))

    results.append(measure(group, "policy scope (fresh user)", fresh_scope, **opts))
    TicketPolicy.scope(actor.user)  # cached on this object: the next case times the counts alone
    results.append(
        measure(group, "inbox_views counts", lambda i: selectors.inbox_views(actor.user), floor=count_floor, **opts)
    )
    return results


def add_ratios(results: list[Result]) -> None:
    floors = {(r.group, r.case): r.p50 for r in results}
    for r in results:
        if r.floor and (r.group, r.floor) in floors:
            r.ratio = r.p50 / floors[(r.group, r.floor)]


def print_table(results: list[Result]) -> None:
    print()
    header = f"{'actor':<11}{'case':<44}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'queries':>9}{'p50/floor':>11}"
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = f"{r.ratio:9.1f}×" if r.ratio is not None else ""
        print(f"{r.group:<11}{pad(r.case, 44)}{r.n:>5}{r.p50:>10.2f}{r.p95:>10.2f}{r.queries:>9}{ratio:>11}")
    print("ratios: inbox pages and searches against the FK first-page floor; the ticket page against the ticket")
    print("floor; inbox_views counts against the FK count floor. Requests include middleware, session, policy,")
    print("selectors and template rendering; the floors are bare ORM queries.")


def _sql_kind(sql: str) -> str:
    if "guardian_" in sql:
        return "guardian grants"
    if "COUNT(" in sql:
        return "view counts"
    if "LIMIT 51" in sql:
        return "page query"
    table = re.search(r'FROM "(\w+)"', sql)
    return table.group(1) if table else sql[:30]


def explain_all(results: list[Result]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) each case's page query and its two slowest other SELECTs (each distinct statement
    once) into last-explain.txt; print the execution times."""
    from django.db import connection

    out: list[str] = [f"# EXPLAIN (ANALYZE, BUFFERS) — {time.strftime('%Y-%m-%d %H:%M:%S %z')}\n"]
    summary: list[str] = []
    done: set[str] = set()
    for r in results:
        if r.case.startswith(("floor", "policy")):
            continue
        selects = [(t, s) for t, s in r.sql if s.lstrip().upper().startswith("SELECT")]
        page = [s for _t, s in selects if "LIMIT 51" in s and 'FROM "tickets_ticket"' in s][:1]
        slowest = [s for t, s in sorted(selects, key=lambda x: -x[0]) if s not in page and t >= 0.001][:2]
        timings: list[str] = []
        for sql in page + slowest:
            if sql in done:
                continue
            done.add(sql)
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = [row[0] for row in cursor.fetchall()]
            total = next((line for line in reversed(plan) if line.startswith("Execution Time")), "")
            kind = _sql_kind(sql)
            out.append(f"\n## {r.group} / {r.case} / {kind} {r.note}\n{sql}\n\n" + "\n".join(plan) + "\n")
            timings.append(f"{kind} {total.removeprefix('Execution Time: ')}")
        if timings:
            summary.append(f"  {r.group:<11}{pad(r.case, 44)}{'; '.join(timings)}")
    EXPLAIN_FILE.write_text("".join(out))
    print(f"\nEXPLAIN ANALYZE execution times (plans in {EXPLAIN_FILE.relative_to(ROOT)}; repeated statements once):")
    print("\n".join(summary))


def main() -> None:
    args = parse_args()
    url = bench_database_url()
    marker = database_marker(url)
    check_is_bench_database(url, marker)
    setup_django()
    from django.conf import settings

    started = time.strftime("%Y-%m-%d %H:%M:%S %z")
    load_before = os.getloadavg()
    seeding = seed_if_needed(url, args, marker)
    sizes = table_sizes()
    for name, size in sizes.items():
        print(f"  {name}: {size}")

    rng = random.Random(args.seed)
    agent, supervisor = pick_actors()
    results = run_actor(agent, args, rng) + run_actor(supervisor, args, rng)
    add_ratios(results)
    print_table(results)
    if not args.no_explain:
        explain_all(results)
    if not seeding["reused"]:
        rows, seconds = seeding["rows"], seeding["seconds"]
        print(
            f"\nseeded {rows['tickets']:,} tickets, {rows['messages']:,} messages, {rows['orders']:,} orders and "
            f"{rows['customers']:,} customers in {seconds['total']:.0f} s (COPY with every index in place; "
            f"deferred FK checks at commit {seconds['FK checks (deferred) + commit']:.0f} s)"
        )
    load_after = os.getloadavg()
    machine = f"{platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"\n{started}; {machine}; DEBUG={settings.DEBUG}; load average before {load_before[0]:.2f}, after ", end="")
    print(f"{load_after[0]:.2f} (the machine is shared: figures include others' work)")
    RESULTS_FILE.write_text(
        json.dumps(
            {
                "started": started,
                "machine": machine,
                "args": vars(args),
                "seeding": seeding,
                "sizes": sizes,
                "load": [load_before, load_after],
                "results": [{k: v for k, v in asdict(r).items() if k != "sql"} for r in results],
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
