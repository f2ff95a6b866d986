"""What each admin changelist may contain, derived from TicketPolicy / ShopPolicy (DESIGN.md invariant 3).

The policies answer for tickets and shops; the admin also lists customers, orders, messages, queues and canned
replies, so these helpers extend the same scope to them without re-implementing it:

- supervisors: everything;
- a customer or an order is visible when it belongs to a shop the user holds `helpdesk.access_shop` on
  (merchants) or when one of its tickets is visible to the user (agents see the customers and orders of the
  tickets in their queues or assigned to them — not whole shops, because an agent's grant is on a queue);
- messages and attachments follow their ticket;
- queues: global ones, the user's shops' ones and the queues they work;
- canned replies: global ones and those of shops the user reaches (granted, or through a visible ticket).

Each helper narrows the queryset it is given, so the admin keeps its select_related and ordering.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from helpdesk.models import Shop
from tickets.models import Attachment, CannedReply, Customer, Message, Order, Queue
from tickets.permissions import ShopPolicy, TicketPolicy, User


def is_supervisor(user: User) -> bool:
    return TicketPolicy.scope(user).is_supervisor


def shops_visible_to(user: User, queryset: QuerySet[Shop]) -> QuerySet[Shop]:
    q = ShopPolicy.shop_filter(user, field="pk")
    return queryset if q is None else queryset.filter(q)


def customers_visible_to(user: User, queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    q = ShopPolicy.shop_filter(user)
    if q is None:
        return queryset
    return queryset.filter(q | Q(pk__in=TicketPolicy.visible_to(user).values("customer_id")))


def orders_visible_to(user: User, queryset: QuerySet[Order]) -> QuerySet[Order]:
    q = ShopPolicy.shop_filter(user)
    if q is None:
        return queryset
    ticket_orders = TicketPolicy.visible_to(user).filter(order_id__isnull=False).values("order_id")
    return queryset.filter(q | Q(pk__in=ticket_orders))


def messages_visible_to(user: User, queryset: QuerySet[Message]) -> QuerySet[Message]:
    if is_supervisor(user):
        return queryset
    return queryset.filter(ticket__in=TicketPolicy.visible_to(user).values("pk"))


def attachments_visible_to(user: User, queryset: QuerySet[Attachment]) -> QuerySet[Attachment]:
    if is_supervisor(user):
        return queryset
    return queryset.filter(message__ticket__in=TicketPolicy.visible_to(user).values("pk"))


def queues_visible_to(user: User, queryset: QuerySet[Queue]) -> QuerySet[Queue]:
    scope = TicketPolicy.scope(user)
    if scope.is_supervisor:
        return queryset
    return queryset.filter(Q(shop__isnull=True) | Q(shop_id__in=scope.shop_ids) | Q(pk__in=scope.queue_ids))


def canned_replies_visible_to(user: User, queryset: QuerySet[CannedReply]) -> QuerySet[CannedReply]:
    scope = TicketPolicy.scope(user)
    if scope.is_supervisor:
        return queryset
    ticket_shops = TicketPolicy.visible_to(user).values("shop_id")
    return queryset.filter(Q(shop__isnull=True) | Q(shop_id__in=scope.shop_ids) | Q(shop_id__in=ticket_shops))
