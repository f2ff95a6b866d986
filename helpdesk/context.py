"""Who is acting and on behalf of which request: read by the audit trail and by log records."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None
    # For actors without a user row: "system", "task:sla_sweep", "rule:12", "api-key:3".
    actor_label: str = ""


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "carddesk_request_context",
    default=RequestContext(),  # noqa: B039 (frozen dataclass: immutable)
)


def current() -> RequestContext:
    return _current.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextlib.contextmanager
def bound(**changes: str | None) -> Iterator[RequestContext]:
    """Bind request id / ip / actor label for the duration of a block (requests, tasks, commands)."""
    ctx = replace(_current.get(), **changes)
    if not ctx.request_id:
        ctx = replace(ctx, request_id=new_request_id())
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


class RequestContextLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get().request_id or "-"
        return True
