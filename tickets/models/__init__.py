from tickets.models.csat import CsatResponse
from tickets.models.customers import Customer, CustomerTier, DeliveryStatus, Order, PaymentStatus
from tickets.models.organisation import AgentProfile, Category, Presence, Queue, Tag
from tickets.models.tickets import (
    Attachment,
    AuthorKind,
    CannedReply,
    Channel,
    Message,
    Priority,
    Status,
    Ticket,
)
from tickets.models.tracking import TrackingToken
from tickets.models.views import SavedView

__all__ = [
    "AgentProfile",
    "Attachment",
    "AuthorKind",
    "CannedReply",
    "Category",
    "Channel",
    "CsatResponse",
    "Customer",
    "CustomerTier",
    "DeliveryStatus",
    "Message",
    "Order",
    "PaymentStatus",
    "Presence",
    "Priority",
    "Queue",
    "SavedView",
    "Status",
    "Tag",
    "Ticket",
    "TrackingToken",
]
