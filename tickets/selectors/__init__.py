"""Reads of protected data, always through the policy (STYLE.md habit 3)."""

from tickets.selectors.console import (
    canned_replies_for,
    canned_reply_render,
    customer_other_tickets,
    saved_views_for,
)
from tickets.selectors.inbox import InboxFilters, InboxPage, InboxView, inbox_page, inbox_views
from tickets.selectors.tickets import (
    message_list_for,
    ticket_audit_trail,
    ticket_get_visible,
    ticket_list_visible_to,
)

__all__ = [
    "InboxFilters",
    "InboxPage",
    "InboxView",
    "canned_replies_for",
    "canned_reply_render",
    "customer_other_tickets",
    "inbox_page",
    "inbox_views",
    "message_list_for",
    "saved_views_for",
    "ticket_audit_trail",
    "ticket_get_visible",
    "ticket_list_visible_to",
]
