"""The ticket page: thread, context panel, reply box, field changes, merge, reveal — and their errors."""

from __future__ import annotations

import hashlib
import uuid

from django.contrib import messages
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tickets import selectors, services
from tickets.errors import NotVisible, TicketError
from tickets.forms import MergeForm, ReplyForm, TicketFieldsForm
from tickets.models import Status, Ticket
from tickets.permissions import TicketPolicy
from tickets.views.common import console_user_required, visible_ticket_or_404
from tickets.views.sla import sla_panel


def ticket_version(ticket: Ticket) -> str:
    """What the side panel shows, hashed: a new message is not a conflict, a changed field is."""
    tags = sorted(t.name for t in ticket.tags.all()) if ticket.pk else []
    state = [ticket.status, ticket.priority, ticket.category_id, ticket.queue_id, ticket.assignee_id, tags]
    return hashlib.sha256(repr(state).encode()).hexdigest()[:16]


def fields_initial(ticket: Ticket) -> dict:
    return {
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category_id,
        "queue": ticket.queue_id,
        "assignee": ticket.assignee_id,
        "tags": ", ".join(t.name for t in ticket.tags.all()),
        "version": ticket_version(ticket),
    }


def render_ticket(
    request: HttpRequest,
    ticket: Ticket,
    *,
    reply_form: ReplyForm | None = None,
    fields_form: TicketFieldsForm | None = None,
    merge_form: MergeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    thread = list(selectors.message_list_for(user, ticket))
    # The version hash and the fields form both read the tags: load them once, not once per read.
    prefetch_related_objects([ticket], "tags")
    context = {
        "ticket": ticket,
        "thread": thread,
        "last_seq": ticket.last_seq,
        "reply_form": reply_form or ReplyForm(initial={"client_msg_id": uuid.uuid4().hex, "seen_seq": ticket.last_seq}),
        "fields_form": fields_form or TicketFieldsForm(initial=fields_initial(ticket)),
        "merge_form": merge_form or MergeForm(),
        "canned_replies": selectors.canned_replies_for(user, ticket),
        "other_tickets": selectors.customer_other_tickets(user, ticket),
        "audit_trail": selectors.ticket_audit_trail(user, ticket)[:50],
        "can_reply": TicketPolicy.can_reply(user, ticket),
        "can_assign": TicketPolicy.can_assign(user, ticket),
        "can_reveal": bool(
            ticket.order_id and ticket.order.card_keys and TicketPolicy.can_reveal_secrets(user, ticket)
        ),
        "statuses": Status,
        "version": ticket_version(ticket),
        "sla": sla_panel(ticket),
    }
    return render(request, "console/ticket.html", context, status=status)


@console_user_required
@require_GET
def ticket_detail(request: HttpRequest, reference: str) -> HttpResponse:
    return render_ticket(request, visible_ticket_or_404(request, reference))


@console_user_required
@require_POST
def ticket_reply(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = visible_ticket_or_404(request, reference)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return render_ticket(request, ticket, reply_form=form, status=400)
    data = form.cleaned_data
    seen = data.get("seen_seq")
    if data["kind"] == "reply" and seen is not None and ticket.last_seq > seen:
        newer = selectors.message_list_for(request.user, ticket, after_seq=seen).filter(author_kind="customer")
        if newer.exists():
            # Don't answer blind: the customer wrote meanwhile. Keep the draft, show what's new, let them resend.
            again = ReplyForm(data={**request.POST.dict(), "seen_seq": ticket.last_seq})
            again.is_valid()
            again.add_error(None, _("The customer wrote again while you were typing. Read the new message, then send."))
            return render_ticket(request, ticket, reply_form=again, status=409)
    try:
        services.ticket_respond(
            ticket=ticket,
            actor=request.user,
            kind=data["kind"],
            body=data["body"],
            client_msg_id=data.get("client_msg_id") or None,
            attachments=request.FILES.getlist("attachments"),
            then_status=data.get("then_status") or None,
            canned_reply_id=data.get("canned_reply"),
        )
    except TicketError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return render_ticket(request, ticket, reply_form=form, status=_status_for(error))
    messages.success(request, _("Reply sent.") if data["kind"] == "reply" else _("Note added."))
    return redirect("console:ticket", reference=ticket.reference)


def _status_for(error: TicketError) -> int:
    return {"not_found": 404, "forbidden": 403, "invalid": 400}.get(error.code, 409)


@console_user_required
@require_POST
def ticket_fields(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = visible_ticket_or_404(request, reference)
    form = TicketFieldsForm(request.POST)
    if not form.is_valid():
        return render_ticket(request, ticket, fields_form=form, status=400)
    data = form.cleaned_data
    if data["version"] != ticket_version(ticket):
        form.add_error(
            None,
            _("Someone changed this ticket while you were editing. Check the current values, then save again."),
        )
        # Show current values as the form's reference point but keep what the agent chose.
        stale = TicketFieldsForm(data={**request.POST.dict(), "version": ticket_version(ticket)})
        stale.is_valid()
        stale.add_error(None, form.non_field_errors()[0])
        return render_ticket(request, ticket, fields_form=stale, status=409)
    try:
        services.ticket_edit(
            ticket=ticket,
            actor=request.user,
            status=data["status"],
            priority=data["priority"],
            category=data["category"],
            queue=data["queue"],
            assignee=data["assignee"],
            tags=data["tags"],
        )
    except TicketError as error:
        ticket.refresh_from_db()
        retry = TicketFieldsForm(data={**request.POST.dict(), "version": ticket_version(ticket)})
        retry.is_valid()
        retry.add_error(error.field if error.field in retry.fields else None, error.message)
        return render_ticket(request, ticket, fields_form=retry, status=_status_for(error))
    messages.success(request, _("Ticket updated."))
    return redirect("console:ticket", reference=ticket.reference)


@console_user_required
@require_POST
def ticket_quick(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    """Keyboard actions: assign to me, solve."""
    ticket = visible_ticket_or_404(request, reference)
    try:
        if action == "assign-me":
            services.ticket_assign(ticket=ticket, actor=request.user, assignee=request.user)
            messages.success(request, _("Assigned to you."))
        elif action == "solve":
            services.ticket_change_status(ticket=ticket, actor=request.user, status=Status.SOLVED)
            messages.success(request, _("Marked solved."))
        else:
            raise Http404
    except TicketError as error:
        messages.error(request, error.message)
    return redirect("console:ticket", reference=ticket.reference)


@console_user_required
@require_POST
def ticket_merge(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = visible_ticket_or_404(request, reference)
    form = MergeForm(request.POST)
    if not form.is_valid():
        return render_ticket(request, ticket, merge_form=form, status=400)
    target_ref = form.cleaned_data["target"].strip().upper()
    try:
        target = selectors.ticket_get_visible(request.user, reference=target_ref)
        services.ticket_merge(source=ticket, target=target, actor=request.user)
    except NotVisible:
        form.add_error("target", _("No ticket %(ref)s that you can see.") % {"ref": target_ref})
        return render_ticket(request, ticket, merge_form=form, status=400)
    except TicketError as error:
        form.add_error("target", error.message)
        return render_ticket(request, ticket, merge_form=form, status=_status_for(error))
    messages.success(
        request, _("%(source)s merged into %(target)s.") % {"source": ticket.reference, "target": target.reference}
    )
    return redirect("console:ticket", reference=target.reference)


@console_user_required
@require_POST
def ticket_reveal(request: HttpRequest, reference: str) -> JsonResponse:
    ticket = visible_ticket_or_404(request, reference)
    try:
        keys = services.order_secrets_reveal(ticket=ticket, actor=request.user)
    except TicketError as error:
        return JsonResponse({"error": error.message}, status=_status_for(error))
    return JsonResponse({"keys": keys}, headers={"Cache-Control": "no-store"})


@console_user_required
@require_GET
def ticket_messages(request: HttpRequest, reference: str) -> HttpResponse:
    """Messages after `after` as HTML fragments: the live update and reconnect catch-up path."""
    ticket = visible_ticket_or_404(request, reference)
    try:
        after = max(int(request.GET.get("after", "0")), 0)
    except ValueError:
        after = 0
    thread = selectors.message_list_for(request.user, ticket, after_seq=after)
    response = render(request, "console/_messages.html", {"thread": thread, "ticket": ticket})
    response["X-Last-Seq"] = str(ticket.last_seq)
    response["X-Ticket-Version"] = ticket_version(ticket)
    return response


@console_user_required
@require_GET
def canned_reply_preview(request: HttpRequest, reference: str, reply_id: int) -> JsonResponse:
    ticket = visible_ticket_or_404(request, reference)
    reply = selectors.canned_replies_for(request.user, ticket).filter(pk=reply_id).first()
    if reply is None:
        raise Http404
    body = selectors.canned_reply_render(reply.body, ticket=ticket, agent=request.user)
    return JsonResponse({"id": reply.pk, "title": reply.title, "body": body})


__all__ = [
    "canned_reply_preview",
    "ticket_detail",
    "ticket_fields",
    "ticket_merge",
    "ticket_messages",
    "ticket_quick",
    "ticket_reply",
    "ticket_reveal",
]
