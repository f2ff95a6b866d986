"""Inbox: views with counts, filters, search, keyset pages, bulk actions and saved views."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from tickets import selectors, services
from tickets.errors import TicketError
from tickets.forms import BulkActionForm, InboxFilterForm, SavedViewForm
from tickets.models import Category, Channel, Priority, Queue, Status
from tickets.selectors.inbox import InboxFilters
from tickets.services.console import saved_view_create, saved_view_delete
from tickets.views.common import console_user_required
from tickets.views.sla import AT_RISK_SECONDS, with_badges


@console_user_required
def inbox(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET or None)
    filters = form.to_filters() if form.is_valid() else InboxFilters(view=request.GET.get("view", "mine"))
    page = selectors.inbox_page(
        request.user, filters, cursor=form.cleaned_data.get("cursor", "") if form.is_valid() else ""
    )
    with_badges(page.tickets)
    query = request.GET.copy()
    query.pop("cursor", None)
    rows = {"page": page, "next_url": _with_cursor(query, page.next_cursor), "at_risk_seconds": AT_RISK_SECONDS}
    if request.GET.get("fragment") == "rows":
        # The live refresh asks for the table alone, on every event: no view counts, filters or forms for it.
        return render(request, "console/_inbox_rows.html", rows)
    context = {
        **rows,
        "form": form,
        "filters": filters,
        "views": selectors.inbox_views(request.user),
        "saved_views": selectors.saved_views_for(request.user),
        "query": query.urlencode(),
        "statuses": Status.choices,
        "priorities": Priority.choices,
        "channels": Channel.choices,
        "queues": Queue.objects.filter(is_active=True).order_by("name"),
        "categories": Category.objects.filter(is_active=True).select_related("parent").order_by("name"),
        "bulk_form": BulkActionForm(),
        "saved_view_form": SavedViewForm(initial={"query": query.urlencode()}),
    }
    return render(request, "console/inbox.html", context)


def _with_cursor(query, cursor: str | None) -> str:
    """The next page's URL: every filter kept (multi-valued ones too), plus the cursor."""
    if not cursor:
        return ""
    params = query.copy()
    params["cursor"] = cursor
    return f"?{params.urlencode()}"


@console_user_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    form = BulkActionForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("console:inbox")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    data = form.cleaned_data
    done, failed = 0, []
    for ticket_id in data["tickets"]:
        label = f"#{ticket_id}"
        try:
            ticket = selectors.ticket_get_visible(request.user, pk=ticket_id)
            label = ticket.reference
            if data["action"] == "assign_me":
                services.ticket_assign(ticket=ticket, actor=request.user, assignee=request.user)
            elif data["action"] == "assign":
                services.ticket_assign(ticket=ticket, actor=request.user, assignee=data["assignee"])
            elif data["action"] == "status":
                services.ticket_change_status(ticket=ticket, actor=request.user, status=data["status"])
            elif data["action"] == "tag":
                current = list(ticket.tags.values_list("name", flat=True))
                services.ticket_update(ticket=ticket, actor=request.user, tags=[*current, data["tag"].strip()])
            done += 1
        except TicketError as error:
            failed.append(f"{label}: {error.message}")
    if done:
        messages.success(
            request, ngettext("%(count)d ticket updated.", "%(count)d tickets updated.", done) % {"count": done}
        )
    for line in failed:
        messages.error(request, line)
    return redirect(back)


@console_user_required
@require_POST
def saved_view_save(request: HttpRequest) -> HttpResponse:
    form = SavedViewForm(request.POST)
    if form.is_valid():
        try:
            view = saved_view_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                query=form.cleaned_data["query"],
                shared=form.cleaned_data["shared"],
            )
            messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
            return redirect(f"{reverse('console:inbox')}?{view.query}")
        except TicketError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, _("Give the view a name."))
    return redirect(f"{reverse('console:inbox')}?{request.POST.get('query', '')}")


@console_user_required
@require_POST
def saved_view_remove(request: HttpRequest, view_id: int) -> HttpResponse:
    try:
        saved_view_delete(actor=request.user, view_id=view_id)
        messages.success(request, _("View deleted."))
    except TicketError as error:
        messages.error(request, error.message)
    return redirect("console:inbox")
