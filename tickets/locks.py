"""Row locks taken in one fixed order (ascending id), so two services locking the same tickets never deadlock.

Every ticket write starts here, so the statement is written out once instead of built by the ORM per call:
compiling `select_for_update().filter(pk__in=…)` for Ticket's columns cost ~1.0 ms of CPU against ~0.5 ms for
the same rows through `raw()` (bench/chat_load.py; a chat message takes two or three such locks).
"""

from __future__ import annotations

from django.db import connection
from django.db.transaction import TransactionManagementError

from tickets.models import Ticket

# Table and column names come from model metadata; values are bound parameters.
_LOCK_SQL = f'SELECT * FROM "{Ticket._meta.db_table}" WHERE "id" = ANY(%s::bigint[]) ORDER BY "id" FOR UPDATE'  # noqa: S608


def lock_tickets(*ids: int) -> dict[int, Ticket]:
    if connection.get_autocommit():  # as the ORM's select_for_update: a lock outside a transaction is a bug
        raise TransactionManagementError("lock_tickets runs inside a transaction")
    rows = Ticket.objects.raw(_LOCK_SQL, [sorted(set(ids))])
    return {ticket.pk: ticket for ticket in rows}


def lock_ticket(ticket_id: int) -> Ticket:
    """The ticket, re-read under its row lock; Ticket.DoesNotExist if there is none."""
    try:
        return lock_tickets(ticket_id)[ticket_id]
    except KeyError:
        raise Ticket.DoesNotExist(f"Ticket {ticket_id} does not exist.") from None
