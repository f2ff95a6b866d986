from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest

from tickets import selectors
from tickets.errors import NotVisible
from tickets.models import Ticket
from tickets.permissions import TicketPolicy


def console_user_required(view):
    """Logged in, and part of the desk (agent, supervisor or merchant staff); customers have the help centre."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        scope = TicketPolicy.scope(request.user)
        if not (scope.is_supervisor or scope.queue_ids or scope.shop_ids or request.user.is_staff):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def visible_ticket_or_404(request: HttpRequest, reference: str) -> Ticket:
    try:
        return selectors.ticket_get_visible(request.user, reference=reference)
    except NotVisible:
        raise Http404 from None
