"""The customer's side of tickets in the help centre: submit, reply, mark solved, ask for a new link.

Each function is a thin, audited path onto the ticket services every other channel uses, so replies and
status changes from the help centre reach the console live like any other. Customers authenticated by a
tracking link act with `actor=None`; the audit trail records them as "customer:<id>".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk import context
from helpdesk.masking import mask_text
from helpdesk.models import Shop
from tickets.errors import InvalidInput
from tickets.models import Category, Channel, Customer, Status, Ticket
from tickets.selectors.help_centre import customer_for_user, order_find
from tickets.services.customers import customer_upsert
from tickets.services.messages import PostResult, customer_message_post
from tickets.services.notifications import ticket_received_notify, tracking_link_notify
from tickets.services.tickets import ticket_change_status, ticket_create
from tickets.services.tracking import tracking_token_issue

# One e-mail per ticket per window, however often someone asks for a new link.
LINK_REQUEST_WINDOW_SECONDS = 600


def customer_label(customer: Customer | int) -> str:
    return f"customer:{customer if isinstance(customer, int) else customer.pk}"


@dataclass(frozen=True)
class Submission:
    ticket: Ticket
    token: str  # plain tracking token: shown once on the confirmation page and e-mailed


@transaction.atomic
def help_ticket_submit(
    *,
    shop: Shop,
    email: str,
    subject: str,
    description: str,
    name: str = "",
    order_no: str = "",
    category: Category | None = None,
    attachments: Sequence[UploadedFile] = (),
    language: str | None = None,
    user: AbstractBaseUser | None = None,
    client_msg_id: str | None = None,
) -> Submission:
    """Open a web-form ticket: upsert the customer by e-mail, attach the order, issue a tracking link, e-mail it.

    A logged-in customer already linked to this shop posts as that customer; otherwise the customer is
    found or created by e-mail (never linked to the login: the e-mail address is unverified).
    """
    email = (email or "").strip().lower()
    if not email:
        raise InvalidInput(_("Please enter your e-mail address."), field="email")
    order = None
    if (order_no or "").strip():
        order = order_find(shop=shop, order_no=order_no)
        if order is None:
            raise InvalidInput(
                _("We could not find this order number in %(shop)s.") % {"shop": shop.name}, field="order_no"
            )
    if category is not None and not category.is_active:
        raise InvalidInput(_("Choose one of the listed categories."), field="category")
    customer = customer_for_user(user, shop) if user is not None else None
    with context.bound(actor_label="help-centre"):
        if customer is None:
            customer = customer_upsert(shop=shop, actor=None, email=email, name=name, language=language)
            user = None
    secrets = order.card_keys.reveal().splitlines() if order is not None and order.card_keys else []
    with context.bound(actor_label=customer_label(customer)):
        ticket = ticket_create(
            shop=shop,
            actor=user,
            customer=customer,
            subject=mask_text((subject or "").strip(), secrets),  # bodies are masked by the service; subjects not
            body=description,
            channel=Channel.WEB,
            order=order,
            category=category,
            language=language or customer.language,
            client_msg_id=client_msg_id,
            attachments=attachments,
        )
        token = tracking_token_issue(ticket=ticket, actor=user)
        ticket_received_notify(ticket=ticket, token=token)
    return Submission(ticket=ticket, token=token)


def help_reply_post(
    *,
    ticket: Ticket,
    user: AbstractBaseUser | None,
    body: str,
    client_msg_id: str | None = None,
    attachments: Sequence[UploadedFile] = (),
) -> PostResult:
    """The customer answers on the tracking page (user=None) or from "my tickets" (their login)."""
    with context.bound(actor_label=customer_label(ticket.customer_id)):
        return customer_message_post(
            ticket=ticket,
            actor=user,
            body=body,
            client_msg_id=client_msg_id,
            channel=Channel.WEB,
            attachments=attachments,
        )


def help_ticket_solve(*, ticket: Ticket, user: AbstractBaseUser | None) -> Ticket:
    """The customer says the problem is solved (the only status a customer may set)."""
    with context.bound(actor_label=customer_label(ticket.customer_id)):
        return ticket_change_status(ticket=ticket, actor=user, status=Status.SOLVED)


@transaction.atomic
def help_tracking_link_request(*, email: str, reference: str) -> bool:
    """E-mail a new tracking link when the e-mail and reference belong together; the caller says the same either way.

    Returns whether an e-mail was queued (for tests and logs, never for the page).
    """
    email = (email or "").strip().lower()
    reference = (reference or "").strip().upper()
    if not email or not reference:
        return False
    ticket = (
        Ticket.objects.select_related("customer", "shop").filter(reference=reference, customer__email=email).first()
    )
    if ticket is None:
        return False
    window = int(timezone.now().timestamp() // LINK_REQUEST_WINDOW_SECONDS)
    with context.bound(actor_label=customer_label(ticket.customer_id)):
        return tracking_link_notify(ticket=ticket, request_key=str(window)) is not None
