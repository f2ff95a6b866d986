"""Help-centre ticket pages: contact form, tracking without an account, my tickets, satisfaction.

Views validate shape (forms_help), then call one service; a service's refusal lands on the field it names,
with everything typed kept. Pages reached through a tracking link answer the same 404 page for an unknown,
expired or revoked link — and offer to e-mail a new one.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk import context
from helpdesk.shops import help_shop_for
from tickets.errors import NotVisible, TicketError
from tickets.forms_help import ContactForm, LinkRequestForm, RateForm, ReplyForm
from tickets.models import CsatResponse, Status, Ticket
from tickets.selectors.help_centre import (
    customer_for_user,
    help_ticket_of,
    help_tickets_of,
    public_attachment,
    public_thread,
)
from tickets.services.csat import csat_record, csat_update_days
from tickets.services.help_centre import (
    help_reply_post,
    help_ticket_solve,
    help_ticket_submit,
    help_tracking_link_request,
)
from tickets.services.tracking import tracking_token_lookup

logger = logging.getLogger(__name__)

SESSION_SUBMISSION = "help_submission"
# (count, seconds): tickets per client IP and per e-mail address; new-link requests per IP.
DEFAULT_LIMITS = {"ip": (5, 600), "email": (3, 600), "link_ip": (5, 600)}


# --- abuse limits ----------------------------------------------------------------------------------


def _limit(kind: str) -> tuple[int, int]:
    limits = {**DEFAULT_LIMITS, **getattr(settings, "HELP_CONTACT_RATE_LIMITS", {})}
    return limits[kind]


def _limit_key(kind: str, value: str) -> str:
    return f"help-limit:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def _over_limit(kind: str, value: str | None) -> bool:
    """Count one hit in a fixed window (Django's cache, i.e. Redis). A cache outage lets the request through:
    losing a customer's ticket is worse than a burst of spam."""
    if not value:
        return False
    count, window = _limit(kind)
    key = _limit_key(kind, value)
    try:
        cache.add(key, 0, timeout=window)
        return cache.incr(key) > count
    except Exception:
        logger.warning("rate limit check failed; allowing the request", exc_info=True)
        return False


def _claim_submission(submission_id: str) -> bool:
    """First time this form instance is submitted? (A double click must not open two tickets.)"""
    if not submission_id:
        return True
    try:
        return bool(cache.add(f"help-submission:{submission_id[:64]}", 1, timeout=3600))
    except Exception:
        logger.warning("submission de-duplication unavailable", exc_info=True)
        return True


def _release_submission(submission_id: str) -> None:
    if submission_id:
        try:
            cache.delete(f"help-submission:{submission_id[:64]}")
        except Exception:
            logger.warning("could not release submission id", exc_info=True)


def _client_ip(request: HttpRequest) -> str | None:
    # The middleware resolved it (honouring TRUST_X_FORWARDED_FOR) for the audit trail; use the same value.
    return context.current().ip or request.META.get("REMOTE_ADDR")


def _language() -> str:
    code = translation.get_language() or settings.LANGUAGE_CODE
    return "zh-hans" if code.lower().startswith("zh") else ("en" if code.lower().startswith("en") else code)


# --- submit a ticket -------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    shop = help_shop_for(request)
    linked = customer_for_user(request.user, shop)
    if request.method != "POST":
        initial: dict[str, Any] = {"subject": request.GET.get("subject", "")[:200]}
        if linked is not None:
            initial.update(email=linked.email, name=linked.name)
        elif request.user.is_authenticated:
            initial.update(email=request.user.email, name=request.user.get_full_name())
        return _render_contact(request, ContactForm(shop=shop, initial=initial))

    form = ContactForm(request.POST, request.FILES, shop=shop)
    if form.is_spam:
        # Pretend it worked: a bot learns nothing, and nothing is stored or sent.
        logger.info("help contact honeypot filled from %s", _client_ip(request))
        request.session.pop(SESSION_SUBMISSION, None)
        return redirect("help:contact-done")
    if shop is None:
        form.add_error(None, _("The help centre is not set up yet: no shop is active."))
        return _render_contact(request, form, status=503)
    if not form.is_valid():
        return _render_contact(request, form, status=400)
    data = form.cleaned_data
    submission_id = data.get("submission_id") or ""
    if not _claim_submission(submission_id):
        return redirect("help:contact-done")  # the same form posted twice: show the first one's result
    ip_count, ip_window = _limit("ip")
    mail_count, mail_window = _limit("email")
    if _over_limit("ip", _client_ip(request)):
        form.add_error(
            None,
            _(
                "Too many requests from your network: at most %(count)s tickets every %(minutes)s minutes. "
                "Please wait a few minutes and send again — what you typed is kept below."
            )
            % {"count": ip_count, "minutes": ip_window // 60},
        )
        _release_submission(submission_id)
        return _render_contact(request, form, status=429)
    if _over_limit("email", data["email"].lower()):
        form.add_error(
            "email",
            _(
                "Too many requests for this e-mail address: at most %(count)s tickets every %(minutes)s minutes. "
                "Please wait a few minutes, or add to your open ticket with its tracking link."
            )
            % {"count": mail_count, "minutes": mail_window // 60},
        )
        _release_submission(submission_id)
        return _render_contact(request, form, status=429)
    try:
        submission = help_ticket_submit(
            shop=shop,
            email=data["email"],
            name=data.get("name") or "",
            subject=data["subject"],
            description=data["description"],
            order_no=data.get("order_no") or "",
            category=data.get("category"),
            attachments=data.get("attachments") or [],
            language=_language(),
            user=request.user if request.user.is_authenticated else None,
            client_msg_id=submission_id or None,
        )
    except TicketError as error:
        _release_submission(submission_id)
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _render_contact(request, form, status=400 if error.code == "invalid" else 409)
    request.session[SESSION_SUBMISSION] = {
        "reference": submission.ticket.reference,
        "token": submission.token,
        "email": submission.ticket.customer.email,
        "kb_log_ids": data.get("kb_log_ids") or [],
    }
    return redirect("help:contact-done")


def _render_contact(request: HttpRequest, form: ContactForm, *, status: int = 200) -> HttpResponse:
    had_files = bool(request.FILES) and form.is_bound and bool(form.errors)
    return render(
        request,
        "help/contact.html",
        {"form": form, "files_dropped": had_files, "shop": help_shop_for(request)},
        status=status,
    )


@never_cache
@require_GET
def contact_done(request: HttpRequest) -> HttpResponse:
    submission = request.session.get(SESSION_SUBMISSION) or {}
    tracking_link = ""
    if submission.get("token"):
        tracking_link = request.build_absolute_uri(reverse("help:track", args=[submission["token"]]))
    response = render(
        request,
        "help/contact_done.html",
        {"submission": submission, "tracking_link": tracking_link, "kb_log_ids": submission.get("kb_log_ids") or []},
    )
    response["Referrer-Policy"] = "same-origin"
    return response


# --- one ticket, reached by tracking link or by login ------------------------------------------------


@dataclass(frozen=True)
class Access:
    """How the customer reached the ticket: a tracking link (user None) or their login."""

    ticket: Ticket
    user: AbstractBaseUser | None
    token: str | None

    def url(self, page: str = "", *extra: Any) -> str:
        if self.token is not None:
            names = {"": "track", "reply": "track-reply", "solve": "track-solve", "rate": "rate", "file": "track-file"}
            return reverse(f"help:{names[page]}", args=[self.token, *extra])
        names = {
            "": "my-ticket",
            "reply": "my-ticket-reply",
            "solve": "my-ticket-solve",
            "rate": "my-ticket-rate",
            "file": "my-ticket-file",
        }
        return reverse(f"help:{names[page]}", args=[self.ticket.reference, *extra])


def _follow_merge(ticket: Ticket) -> Ticket:
    """A merged ticket continues in its target — shown only when it is the same customer's ticket."""
    if not ticket.merged_into_id:
        return ticket
    target = (
        Ticket.objects.select_related("customer", "order__customer", "shop").filter(pk=ticket.merged_into_id).first()
    )
    return target if target is not None and target.customer_id == ticket.customer_id else ticket


def _access(request: HttpRequest, token: str | None = None, reference: str | None = None) -> Access:
    if token is not None:
        return Access(_follow_merge(tracking_token_lookup(token).ticket), None, token)
    if not request.user.is_authenticated:
        raise NotVisible("No such ticket.")
    return Access(_follow_merge(help_ticket_of(request.user, reference or "")), request.user, None)


def _not_found(request: HttpRequest) -> HttpResponse:
    response = render(request, "help/link_expired.html", {"form": LinkRequestForm()}, status=404)
    response["Referrer-Policy"] = "same-origin"
    return response


def _private(response: HttpResponse) -> HttpResponse:
    """Pages behind a bearer link: not cached by proxies, and the link never leaks to another site in a Referer.

    (same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on this page's form posts,
    which Django's CSRF check rightly refuses.)"""
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _order_context(ticket: Ticket) -> dict[str, Any]:
    """Order details only for the buyer's own e-mail; card keys only ever masked (Secret prints masked)."""
    order = ticket.order if ticket.order_id else None
    if order is None:
        return {"order": None, "order_details": False}
    buyer = order.customer
    same_buyer = (
        buyer is not None and bool(buyer.email) and buyer.email.lower() == (ticket.customer.email or "").lower()
    )
    return {"order": order, "order_details": same_buyer}


def _render_ticket(
    request: HttpRequest, access: Access, *, reply_form: ReplyForm | None = None, status: int = 200
) -> HttpResponse:
    ticket = access.ticket
    context_data = {
        "ticket": ticket,
        "help_shop": ticket.shop,
        "access": access,
        "thread": list(public_thread(ticket)),
        "reply_form": reply_form or ReplyForm(),
        "can_reply": ticket.status != Status.CLOSED and not ticket.merged_into_id,
        "can_solve": ticket.status in {Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD}
        and not ticket.merged_into_id,
        "can_rate": ticket.status in {Status.SOLVED, Status.CLOSED} and not ticket.merged_into_id,
        "statuses": Status,
        "urls": {
            "reply": access.url("reply"),
            "solve": access.url("solve"),
            "rate": access.url("rate"),
            "self": access.url(),
        },
        **_order_context(ticket),
    }
    return _private(render(request, "help/track.html", context_data, status=status))


@require_GET
def track(request: HttpRequest, token: str | None = None, reference: str | None = None) -> HttpResponse:
    try:
        access = _access(request, token, reference)
    except NotVisible:
        return _not_found(request)
    return _render_ticket(request, access)


@require_POST
def track_reply(request: HttpRequest, token: str | None = None, reference: str | None = None) -> HttpResponse:
    try:
        access = _access(request, token, reference)
    except NotVisible:
        return _not_found(request)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_ticket(request, access, reply_form=form, status=400)
    data = form.cleaned_data
    try:
        result = help_reply_post(
            ticket=access.ticket,
            user=access.user,
            body=data["body"],
            client_msg_id=data.get("client_msg_id") or None,
            attachments=data.get("attachments") or [],
        )
    except NotVisible:
        return _not_found(request)
    except TicketError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _render_ticket(request, access, reply_form=form, status=400 if error.code == "invalid" else 409)
    if result.created:
        messages.success(request, _("Your reply was sent."))
    return redirect(access.url() + f"#m{result.message.seq}")


@require_POST
def track_solve(request: HttpRequest, token: str | None = None, reference: str | None = None) -> HttpResponse:
    try:
        access = _access(request, token, reference)
    except NotVisible:
        return _not_found(request)
    try:
        help_ticket_solve(ticket=access.ticket, user=access.user)
    except NotVisible:
        return _not_found(request)
    except TicketError as error:
        messages.error(request, error.message)
        return redirect(access.url())
    messages.success(request, _("Thank you — the ticket is marked as solved. How did we do?"))
    return redirect(access.url("rate"))


@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, token: str | None = None, reference: str | None = None) -> HttpResponse:
    try:
        access = _access(request, token, reference)
    except NotVisible:
        return _not_found(request)
    ticket = access.ticket
    existing = CsatResponse.objects.filter(ticket=ticket).first()
    if request.method == "POST":
        form = RateForm(request.POST)
        if form.is_valid():
            try:
                with context.bound(actor_label=f"customer:{ticket.customer_id}"):
                    csat_record(
                        ticket=ticket,
                        actor=access.user,
                        score=form.cleaned_data["score"],
                        comment=form.cleaned_data.get("comment") or "",
                    )
            except NotVisible:
                return _not_found(request)
            except TicketError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("Thank you for your rating."))
                return redirect(access.url())
        status = 400
    else:
        initial: dict[str, Any] = {}
        if existing is not None:
            initial = {"score": existing.score, "comment": existing.comment}
        if request.GET.get("score", "").isdigit():
            initial["score"] = int(request.GET["score"])
        form, status = RateForm(initial=initial), 200
    can_change_until = existing.created_at + timedelta(days=csat_update_days()) if existing else None
    return _private(
        render(
            request,
            "help/rate.html",
            {
                "ticket": ticket,
                "help_shop": ticket.shop,
                "access": access,
                "form": form,
                "existing": existing,
                "can_change": can_change_until is None or can_change_until > timezone.now(),
                "can_change_until": can_change_until,
                "can_rate": ticket.status in {Status.SOLVED, Status.CLOSED},
                "back_url": access.url(),
            },
            status=status,
        )
    )


@require_GET
def track_file(
    request: HttpRequest, attachment_id: int, token: str | None = None, reference: str | None = None
) -> HttpResponse:
    try:
        access = _access(request, token, reference)
        attachment = public_attachment(access.ticket, attachment_id)
    except NotVisible:
        return _not_found(request)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    return _private(response)


# --- a new link, and my tickets --------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def track_request(request: HttpRequest) -> HttpResponse:
    """Ask for a new tracking link. The answer is the same whether or not the e-mail and reference match."""
    if request.method != "POST":
        return render(request, "help/link_expired.html", {"form": LinkRequestForm(), "standalone": True})
    form = LinkRequestForm(request.POST)
    if not form.is_valid():
        return render(request, "help/link_expired.html", {"form": form, "standalone": True}, status=400)
    if _over_limit("link_ip", _client_ip(request)):
        count, window = _limit("link_ip")
        form.add_error(
            None,
            _("Too many link requests from your network: at most %(count)s every %(minutes)s minutes.")
            % {"count": count, "minutes": window // 60},
        )
        return render(request, "help/link_expired.html", {"form": form, "standalone": True}, status=429)
    help_tracking_link_request(email=form.cleaned_data["email"], reference=form.cleaned_data["reference"])
    return render(request, "help/link_expired.html", {"form": None, "requested": True, "standalone": True})


@login_required
@require_GET
def my_tickets(request: HttpRequest) -> HttpResponse:
    tickets = list(help_tickets_of(request.user)[:200])
    return render(request, "help/my_tickets.html", {"tickets": tickets, "statuses": Status})
