"""Helpers for reading console responses the way an agent would: rows, links, flash messages."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterator
from datetime import datetime
from unittest import mock

from django.contrib.messages import get_messages
from django.http import HttpResponse

from tickets import services
from tickets.models import Status, Ticket

_ROW = re.compile(r'<tr data-ticket="(\d+)"')
_NEXT = re.compile(r'<a href="([^"]+)" rel="next">')


def row_ids(response: HttpResponse) -> list[int]:
    """Ticket ids of the inbox rows, in the order the HTML shows them."""
    return [int(pk) for pk in _ROW.findall(response.content.decode())]


def next_link(response: HttpResponse) -> str | None:
    """The "Older tickets" link's query string, unescaped, or None on the last page."""
    match = _NEXT.search(response.content.decode())
    return html.unescape(match.group(1)) if match else None


def flashes(response: HttpResponse) -> list[tuple[str, str]]:
    """(level, text) of the messages the view queued for the next page."""
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def view_counts(response: HttpResponse) -> dict[str, int]:
    return {view.key: view.count for view in response.context["views"]}


@contextlib.contextmanager
def clock(at: datetime) -> Iterator[None]:
    """Make services and auto_now fields stamp `at`: backdated data still goes through the services."""
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield


def set_status(ticket: Ticket, *path: str) -> Ticket:
    """Walk the ticket along allowed transitions as the system (actor None)."""
    for status in path:
        services.ticket_change_status(ticket=ticket, actor=None, status=status)
    return Ticket.objects.get(pk=ticket.pk)


def closed(ticket: Ticket) -> Ticket:
    return set_status(ticket, Status.SOLVED, Status.CLOSED)


def assigned(ticket: Ticket, user) -> Ticket:
    services.ticket_assign(ticket=ticket, actor=None, assignee=user)
    return Ticket.objects.get(pk=ticket.pk)
