"""The agents' chat desk in the console: incoming chats, the agent's chats side by side, accept/transfer/end.

Thin: reads through channels_app.selectors (policy-scoped), writes through channels_app.services; live updates
come over the console socket, messages are fetched with the ticket page's own fragment endpoint.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from channels_app import selectors, services
from tickets import selectors as ticket_selectors
from tickets.errors import NotVisible, TicketError
from tickets.models import AgentProfile, Queue
from tickets.views.common import console_user_required


def _panels(request: HttpRequest) -> list[dict]:
    panels = []
    for chat in selectors.active_chats_for(request.user):
        panels.append(
            {
                "chat": chat,
                "ticket": chat.ticket,
                "thread": list(ticket_selectors.message_list_for(request.user, chat.ticket)),
                "canned": ticket_selectors.canned_replies_for(request.user, chat.ticket),
                "targets": selectors.transfer_targets(chat),
                "client_msg_id": uuid.uuid4().hex,
            }
        )
    return panels


@console_user_required
@require_GET
def chat_desk(request: HttpRequest) -> HttpResponse:
    profile = AgentProfile.objects.filter(user=request.user).first()
    return render(
        request,
        "console/chats.html",
        {
            "incoming": selectors.incoming_chats_for(request.user),
            "panels": _panels(request),
            "capacity": profile.max_concurrent_chats if profile else 0,
            "presence": profile.presence if profile else "offline",
        },
    )


@console_user_required
@require_GET
def chat_incoming(request: HttpRequest) -> HttpResponse:
    return render(request, "console/_chat_incoming.html", {"incoming": selectors.incoming_chats_for(request.user)})


def _chat_or_404(request: HttpRequest, chat_id: int):
    try:
        return selectors.chat_for_agent(request.user, chat_id)
    except NotVisible:
        raise Http404 from None


def _act(request: HttpRequest, action, **kwargs) -> HttpResponse:
    try:
        action(actor=request.user, **kwargs)
    except NotVisible:
        raise Http404 from None
    except TicketError as error:
        messages.error(request, error.message)
    return redirect("chats:desk")


@console_user_required
@require_POST
def chat_accept(request: HttpRequest, chat_id: int) -> HttpResponse:
    _chat_or_404(request, chat_id)
    return _act(request, services.chat_accept, session_id=chat_id)


@console_user_required
@require_POST
def chat_end(request: HttpRequest, chat_id: int) -> HttpResponse:
    _chat_or_404(request, chat_id)
    return _act(request, services.chat_end_by_agent, session_id=chat_id)


@console_user_required
@require_POST
def chat_transfer(request: HttpRequest, chat_id: int) -> HttpResponse:
    chat = _chat_or_404(request, chat_id)
    target = request.POST.get("to", "")
    kind, _sep, pk = target.partition(":")
    targets = selectors.transfer_targets(chat)
    to_agent = to_queue = None
    if kind == "agent" and pk.isdigit():
        to_agent = get_user_model().objects.filter(pk=int(pk), pk__in=[a.pk for a in targets["agents"]]).first()
    elif kind == "queue" and pk.isdigit():
        to_queue = Queue.objects.filter(pk=int(pk), pk__in=[q.pk for q in targets["queues"]]).first()
    if to_agent is None and to_queue is None:
        messages.error(request, _("Choose an agent or a queue to transfer to."))
        return redirect("chats:desk")
    return _act(
        request,
        services.chat_transfer,
        session_id=chat_id,
        to_agent=to_agent,
        to_queue=to_queue,
        note=request.POST.get("note", "")[:2000],
    )
