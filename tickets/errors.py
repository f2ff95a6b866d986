"""Domain errors raised by services; interfaces turn them into 404 / 403 / 409 / 400 responses."""

from __future__ import annotations


class TicketError(Exception):
    code = "ticket_error"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotVisible(TicketError):
    """The object does not exist or the user may not see it: both answer 404, identically."""

    code = "not_found"


class NotAllowed(TicketError):
    """The user sees the ticket but may not perform this action on it."""

    code = "forbidden"


class InvalidTransition(TicketError):
    code = "invalid_transition"


class TicketClosed(TicketError):
    code = "ticket_closed"


class InvalidInput(TicketError):
    code = "invalid"
