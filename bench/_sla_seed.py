"""Seeding for bench/sla_sweep.py: the structure through the ORM, then up to 1,000,000 tickets by
INSERT … SELECT over generate_series (secondary indexes and foreign keys dropped and re-created for the bulk
step). Every seeded row's SLA times agree with `tickets.services.sla.deadlines`."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

PREFIX = "bench-sla-"  # the bench's shops, queues, customers and users
MARGIN = timedelta(hours=1)  # no seeded deadline falls before seeding time + this: the idle ticks are idle
# The seeded tickets' policy (always open): first response 24 h, resolution 30 days, a warning at 80 %.
FIRST_RESPONSE_MIN, RESOLUTION_MIN, NEXT_RESPONSE_MIN, WARN_PCT = 24 * 60, 30 * 24 * 60, 240, 80
# The lag phase's policy (its own shop only): first response 1 minute, warnings at 10 % and 50 %.
LAG_WARN_PCTS = [10, 50]
TRUNCATE = [
    "tickets_slaevent",
    "tickets_ruleexecution",
    "tickets_message",
    "tickets_ticket_tags",
    "tickets_ticket",
    "tickets_order",
    "tickets_customer",
    "tickets_slapolicy_shops",
    "tickets_slapolicy_categories",
    "tickets_slapolicy",
    "tickets_queue",
    "helpdesk_shop",
    "helpdesk_auditevent",
]
SUBJECTS = ["付款成功但没有收到卡密", "卡密无效", "申请退款", "重复扣款", "Paid but no card key", "Refund request"]


def _defaults(model, written: set[str]) -> tuple[list[str], list[str], list]:
    """Columns the seed does not write, as SQL `CAST(%s AS type)` with their Django defaults (like _seed.py's
    CopyTarget: fields other features add later keep the bench working)."""
    from django.db import connection
    from django.db.models import NOT_PROVIDED

    columns, exprs, params = [], [], []
    for f in model._meta.concrete_fields:
        if f.column in written:
            continue
        if f.has_default() or (not f.null and f.empty_strings_allowed and not f.is_relation):
            value = f.get_db_prep_save(f.get_default(), connection)
        elif f.null:
            value = None
        elif f.db_default is not NOT_PROVIDED:
            continue
        else:
            raise SystemExit(f"{model._meta.db_table}.{f.column} is NOT NULL without a default: update the bench")
        columns.append(f'"{f.column}"')
        exprs.append(f"CAST(%s AS {f.db_type(connection)})")
        params.append(value)
    return columns, exprs, params


# Ticket kinds by id % 10 (the seeded policy: first response 24 h, resolution 30 d, warning at 80 %):
#   0      solved: the clocks stopped, sla_next_due_at NULL (not in the partial index)
#   1      unanswered, the 80 % first-response warning already fired (an SlaEvent row): next is the breach
#   2..5   unanswered: next is the first-response warning
#   6..9   answered: next is the resolution warning (24 days after creation)
# `d` is the next due moment, spread from seeding time + 1 h over the window each kind allows.
TICKETS_SQL = """
INSERT INTO tickets_ticket (id, created_at, updated_at, reference, subject, status, priority, channel, language,
    last_seq, last_public_seq, first_response_at, last_customer_message_at, last_agent_message_at, solved_at,
    customer_id, shop_id, queue_id, sla_policy_id, sla_first_response_due_at, sla_resolution_due_at, sla_next_due_at,
    sla_pauses, sla_breached {optional_columns} {extra_columns})
SELECT g, c, COALESCE(fr, c), 'T-' || lpad(g::text, greatest(6, length(g::text)), '0'),
       (%(subjects)s::text[])[1 + g %% %(n_subjects)s], CASE WHEN k = 0 THEN 'solved' WHEN k <= 5 THEN 'new'
       ELSE 'open' END, (ARRAY['low', 'normal', 'normal', 'normal', 'high'])[1 + (g / 10) %% 5], 'web', 'zh-hans',
       CASE WHEN fr IS NULL THEN 1 ELSE 2 END, CASE WHEN fr IS NULL THEN 1 ELSE 2 END, fr, c, fr,
       CASE WHEN k = 0 THEN c + interval '2 hours' END,
       %(first_customer)s + g %% %(n_customers)s, %(shop)s, (%(queues)s::bigint[])[1 + g %% %(n_queues)s], %(policy)s,
       CASE WHEN k BETWEEN 1 AND 5 THEN c + %(fr_target)s END, CASE WHEN k > 0 THEN c + %(res_target)s END,
       CASE WHEN k > 0 THEN d END,
       CASE WHEN k = 0 THEN jsonb_build_array(jsonb_build_array(to_char((c + interval '2 hours') AT TIME ZONE 'UTC',
            'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), NULL)) ELSE '[]'::jsonb END, false {optional_exprs} {extra_exprs}
FROM (
    SELECT g, k, c, CASE WHEN k >= 6 THEN c + interval '1 hour' WHEN k = 0 THEN c + interval '1 hour' END AS fr, d
    FROM (
        SELECT g, k, d, CASE
                WHEN k = 0 THEN %(now)s - interval '3 hours' - u * interval '30 days'
                WHEN k = 1 THEN d - %(fr_target)s
                WHEN k <= 5 THEN d - %(fr_warn)s
                ELSE d - %(res_warn)s
            END AS c
        FROM (
            SELECT g, k, u, CASE
                    WHEN k = 1 THEN %(start)s + u * (%(fr_target)s - %(fr_warn)s - %(margin)s - interval '5 minutes')
                    WHEN k <= 5 THEN %(start)s + u * (%(fr_warn)s - %(margin)s - interval '5 minutes')
                    ELSE %(start)s + u * (%(res_warn)s - %(margin)s - interval '2 hours')
                END AS d
            FROM (SELECT g, g %% 10 AS k, random() AS u FROM generate_series(%(first)s::bigint, %(last)s) g) r
        ) s
    ) t
) v
"""


# Columns written when the model has them (added by other features since the bench was written).
OPTIONAL_COLUMNS = {
    # the soonest running clock's due time (the console's "at risk" view)
    "sla_due_at": "LEAST(CASE WHEN k BETWEEN 1 AND 5 THEN c + %(fr_target)s END, "
    "CASE WHEN k > 0 THEN c + %(res_target)s END)",
}


def seed_structure(now: datetime) -> dict:
    """Shops, queues, customers and the two policies, through the ORM (a few hundred rows)."""
    from django.db import connection, transaction

    from helpdesk.models import Shop
    from tickets.models import Customer, Queue, SlaPolicy
    from tickets.services.sla import sla_cache_clear

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY(%s)", [TRUNCATE]
        )
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        shop = Shop.objects.create(name="Bench SLA shop", slug=f"{PREFIX}shop")
        lag_shop = Shop.objects.create(name="Bench SLA lag shop", slug=f"{PREFIX}lag")
        queues = [Queue.objects.create(name=f"Bench SLA {i}", slug=f"{PREFIX}q{i}", shop=shop) for i in range(1, 6)]
        customers = Customer.objects.bulk_create(
            Customer(shop=shop, external_id=f"c{i}", name=f"客户{i}", tier="vip" if i % 30 == 0 else "normal")
            for i in range(1, 1001)
        )
        lag_customer = Customer.objects.create(shop=lag_shop, external_id="lag", name="Lag customer")
        lag_policy = SlaPolicy.objects.create(
            name="Bench lag: first response 1 min", position=1, first_response_minutes=1, warn_percentages=LAG_WARN_PCTS
        )
        lag_policy.shops.add(lag_shop)
        policy = SlaPolicy.objects.create(
            name="Bench standard (24 × 7)",
            position=100,
            first_response_minutes=FIRST_RESPONSE_MIN,
            next_response_minutes=NEXT_RESPONSE_MIN,
            resolution_minutes=RESOLUTION_MIN,
            warn_percentages=[WARN_PCT],
            escalate_notify_supervisors=True,
            escalate_raise_priority=True,
        )
    sla_cache_clear()
    return {
        "now": now,
        "shop": shop,
        "lag_shop": lag_shop,
        "lag_customer": lag_customer,
        "queues": [q.pk for q in queues],
        "first_customer": customers[0].pk,
        "n_customers": len(customers),
        "policy": policy,
        "lag_policy": lag_policy,
    }


SECONDARY = """
SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = 'tickets_ticket'::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
"""
FOREIGN_KEYS = (
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'tickets_ticket'::regclass "
)
FOREIGN_KEYS += "AND contype = 'f'"


def seed_tickets(org: dict, first: int, last: int, *, rebuild: bool) -> dict[str, float]:
    """Insert tickets first..last and the warnings kind 1 has fired; vacuum, analyse. With `rebuild`, in the same
    transaction the secondary indexes and foreign keys of tickets_ticket are dropped first and re-created after
    (CREATE INDEX and ADD CONSTRAINT's one validating join instead of 1M index insertions and deferred checks):
    the same table, indexes and constraints as growing it row by row, built in a fraction of the time."""
    from django.db import connection, transaction

    from tickets.models import Ticket

    seconds: dict[str, float] = {}
    written = {
        "id", "created_at", "updated_at", "reference", "subject", "status", "priority", "channel", "language",
        "last_seq", "last_public_seq", "first_response_at", "last_customer_message_at", "last_agent_message_at",
        "solved_at", "customer_id", "shop_id", "queue_id", "sla_policy_id", "sla_first_response_due_at",
        "sla_resolution_due_at", "sla_next_due_at", "sla_pauses", "sla_breached",
    }  # fmt: skip
    known = {f.column for f in Ticket._meta.concrete_fields}
    optional = {c: e for c, e in OPTIONAL_COLUMNS.items() if c in known}
    columns, exprs, extra = _defaults(Ticket, written | set(optional))
    sql = TICKETS_SQL.format(
        optional_columns="".join(f', "{c}"' for c in optional),
        optional_exprs="".join(", " + e for e in optional.values()),
        extra_columns="".join(", " + c for c in columns),
        extra_exprs="".join(", " + e for e in exprs),
    )
    # The named parameters first, then the positional defaults: psycopg wants one style, so inline them as named.
    params = {
        "subjects": SUBJECTS,
        "n_subjects": len(SUBJECTS),
        "first_customer": org["first_customer"],
        "n_customers": org["n_customers"],
        "shop": org["shop"].pk,
        "queues": org["queues"],
        "n_queues": len(org["queues"]),
        "policy": org["policy"].pk,
        "fr_target": timedelta(minutes=FIRST_RESPONSE_MIN),
        "fr_warn": timedelta(minutes=FIRST_RESPONSE_MIN * WARN_PCT / 100),
        "res_target": timedelta(minutes=RESOLUTION_MIN),
        "res_warn": timedelta(minutes=RESOLUTION_MIN * WARN_PCT / 100),
        "margin": MARGIN,
        "now": org["now"],
        "start": org["now"] + MARGIN,
        "first": first,
        "last": last,
    }
    for i, value in enumerate(extra):
        sql = sql.replace("CAST(%s AS", f"CAST(%(extra{i})s AS", 1)
        params[f"extra{i}"] = value
    warn_to_breach = timedelta(minutes=FIRST_RESPONSE_MIN * (100 - WARN_PCT) / 100)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        indexes, constraints = [], []
        if rebuild:
            cursor.execute(SECONDARY)
            indexes = cursor.fetchall()
            cursor.execute(FOREIGN_KEYS)
            constraints = cursor.fetchall()
            for name, _definition in constraints:
                cursor.execute(f'ALTER TABLE tickets_ticket DROP CONSTRAINT "{name}"')
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SELECT setseed(%s)", [0.5 if first == 1 else 0.25])
        cursor.execute(sql, params)
        seconds["INSERT … SELECT tickets"] = time.perf_counter() - started
        if rebuild:
            started = time.perf_counter()
            for _name, definition in indexes:
                cursor.execute(definition)
            seconds[f"CREATE {len(indexes)} INDEXes"] = time.perf_counter() - started
            started = time.perf_counter()
            for name, definition in constraints:
                cursor.execute(f'ALTER TABLE tickets_ticket ADD CONSTRAINT "{name}" {definition}')
            seconds[f"ADD {len(constraints)} FOREIGN KEYs"] = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO tickets_slaevent (ticket_id, policy_id, kind, metric, cycle, threshold, due_at, created_at) "
            "SELECT id, sla_policy_id, 'warned', 'first_response', 0, %s, sla_first_response_due_at - %s, "
            "sla_first_response_due_at - %s + interval '3 seconds' FROM tickets_ticket "
            "WHERE id BETWEEN %s AND %s AND id %% 10 = 1",
            [f"p{WARN_PCT}", warn_to_breach, warn_to_breach, first, last],
        )
        seconds["INSERT … SELECT fired warnings"] = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute("SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), %s)", [last])
        cursor.execute("SELECT setval('tickets_ticket_reference_seq', %s)", [last])
    seconds["commit (deferred FK checks)"] = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) tickets_ticket, tickets_slaevent")
    seconds["vacuum analyze"] = time.perf_counter() - started
    return seconds


def counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(sla_next_due_at), pg_relation_size('tickets_ticket'), "
            "pg_relation_size('ticket_sla_due_idx'), pg_indexes_size('tickets_ticket') FROM tickets_ticket"
        )
        tickets, due, table, index, indexes = cursor.fetchone()
    return {"tickets": tickets, "with_due": due, "table_bytes": table, "index_bytes": index, "indexes_bytes": indexes}
