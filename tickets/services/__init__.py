"""Every write to tickets goes through these functions (STYLE.md habit 1)."""

from tickets.services.console import (
    canned_reply_used,
    saved_view_create,
    saved_view_delete,
    ticket_edit,
    ticket_respond,
)
from tickets.services.customers import customer_upsert, order_upsert
from tickets.services.messages import (
    PostResult,
    agent_reply_post,
    customer_message_post,
    internal_note_post,
)
from tickets.services.tickets import (
    TRANSITIONS,
    order_secrets_reveal,
    ticket_assign,
    ticket_change_status,
    ticket_create,
    ticket_merge,
    ticket_update,
)

__all__ = [
    "TRANSITIONS",
    "PostResult",
    "agent_reply_post",
    "canned_reply_used",
    "customer_message_post",
    "customer_upsert",
    "internal_note_post",
    "order_secrets_reveal",
    "order_upsert",
    "saved_view_create",
    "saved_view_delete",
    "ticket_assign",
    "ticket_change_status",
    "ticket_create",
    "ticket_edit",
    "ticket_merge",
    "ticket_respond",
    "ticket_update",
]
