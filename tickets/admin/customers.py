"""Customers and orders: scoped like their shop and tickets, secrets shown masked only."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from helpdesk.admin import NotFoundAdminMixin, ReadOnlyAdminMixin
from helpdesk.masking import mask_text
from tickets import services
from tickets.admin.common import ScopedRelatedFieldListFilter, ServiceFormAdminMixin, ServiceRejected
from tickets.admin.forms import CustomerAdminForm
from tickets.admin.reveal import REVEAL_LIMIT, RevealedKeys, reveal_response
from tickets.admin.scoping import customers_visible_to, orders_visible_to
from tickets.errors import InvalidInput, TicketError
from tickets.models import Customer, Order, Ticket
from tickets.permissions import TicketPolicy
from tickets.services.customers import normalise_phone, phone_digest

_CUSTOMER_FIELDS = ["shop", "external_id", "name", "email", "masked_phone", "tier", "language", "user"]


@admin.register(Customer)
class CustomerAdmin(ServiceFormAdminMixin, NotFoundAdminMixin, admin.ModelAdmin):
    form = CustomerAdminForm
    list_display = ["__str__", "external_id", "email", "masked_phone", "tier", "language", "shop", "created_at"]
    list_filter = ["tier", "language", ("shop", ScopedRelatedFieldListFilter)]
    search_fields = ["name", "email", "external_id__exact"]
    search_help_text = _("Name, e-mail, exact platform user id, or a full phone number.")
    date_hierarchy = "created_at"
    list_select_related = ["shop"]
    readonly_fields = ["shop", "external_id", "email", "masked_phone", "user", "created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return customers_visible_to(request.user, super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # customers arrive with their channel (customer_upsert)

    def has_delete_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Customer | None = None) -> list[str]:
        fields = [*_CUSTOMER_FIELDS, "created_at", "updated_at"]
        if obj is not None and self.has_change_permission(request, obj):
            fields.insert(fields.index("masked_phone") + 1, "new_phone")
        return fields

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Customer], search_term: str
    ) -> tuple[QuerySet[Customer], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # Phones are encrypted: an exact number is found through its blind index, never by substring.
        if len(normalise_phone(search_term)) >= 7:
            results = results | queryset.filter(phone_digest=phone_digest(search_term))
        return results, may_have_duplicates

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Customer) -> str:
        return obj.phone.masked if obj.phone else "—"

    def save_model(self, request: HttpRequest, obj: Customer, form: CustomerAdminForm, change: bool) -> None:
        """Through customer_upsert (validated, audited, phone encrypted with its digest), keyed by this row."""
        if not form.changed_data:
            return
        stored = Customer.objects.select_related("shop").get(pk=obj.pk)
        data = form.cleaned_data
        try:
            customer = services.customer_upsert(
                shop=stored.shop,
                actor=request.user,
                external_id=stored.external_id,
                email=stored.email,
                name=data["name"],
                phone=data["new_phone"],
                tier=data["tier"],
                language=data["language"],
            )
        except TicketError as error:
            raise ServiceRejected(error) from error
        if customer.pk != stored.pk:
            # customer_upsert finds customers by platform id, else by e-mail: without a unique one it would
            # have written another row. ServiceRejected rolls that back.
            raise ServiceRejected(
                InvalidInput(gettext("This customer has no platform id or unique e-mail; it cannot be edited here."))
            )

    def save_related(self, request: HttpRequest, form: Any, formsets: list, change: bool) -> None:
        pass  # no relations edited here


@admin.register(Order)
class OrderAdmin(NotFoundAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Orders are the platform's snapshots (order_upsert): viewed here, never edited."""

    list_display = [
        "order_no",
        "shop",
        "customer",
        "product",
        "quantity",
        "amount_display",
        "payment_status",
        "delivery_status",
        "card_keys_display",
        "paid_at",
        "created_at",
    ]
    list_filter = ["payment_status", "delivery_status", ("shop", ScopedRelatedFieldListFilter)]
    search_fields = ["order_no", "product", "customer__name", "customer__email", "customer__external_id__exact"]
    date_hierarchy = "created_at"
    list_select_related = ["shop", "customer"]
    fields = [
        "shop",
        "order_no",
        "customer",
        "product",
        "quantity",
        "amount_display",
        "payment_status",
        "payment_channel",
        "delivery_status",
        "card_keys_display",
        "paid_at",
        "delivered_at",
        "raw_display",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    actions = ["reveal_card_keys"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return orders_visible_to(request.user, super().get_queryset(request))

    def has_reveal_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("tickets.reveal_secrets")

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj: Order) -> str:
        return f"{obj.amount} {obj.currency}"

    @admin.display(description=_("delivered card keys"))
    def card_keys_display(self, obj: Order) -> str:
        if not obj.card_keys:
            return "—"
        return format_html_join(
            mark_safe("<br>"), "<code>{}</code>", ((line,) for line in obj.card_keys.masked.splitlines())
        )

    @admin.display(description=_("raw payload"))
    def raw_display(self, obj: Order) -> str:
        # Already scrubbed of key-named fields; also mask anything shaped like a key or a phone number.
        text = json.dumps(obj.raw, ensure_ascii=False, indent=2, sort_keys=True)
        known = obj.card_keys.reveal().splitlines() if obj.card_keys else []
        return format_html('<pre style="margin:0">{}</pre>', mask_text(text, known))

    @admin.action(description=_("Reveal the card keys (for one of the order's tickets)"), permissions=["reveal"])
    def reveal_card_keys(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        orders = list(queryset.order_by("pk")[: REVEAL_LIMIT + 1])
        if len(orders) > REVEAL_LIMIT:
            self.message_user(
                request, _("Reveal at most %(limit)d at a time.") % {"limit": REVEAL_LIMIT}, messages.ERROR
            )
            return None
        rows = []
        for order in orders:
            # The service reveals for a ticket (its audit event names it): take the newest one the user sees.
            ticket = (
                TicketPolicy.visible_to(request.user, Ticket.objects.filter(order=order))
                .select_related("order", "customer")
                .order_by("-id")
                .first()
            )
            if ticket is None:
                self.message_user(
                    request,
                    _("%(order)s: no ticket you can see refers to this order.") % {"order": order.order_no},
                    messages.ERROR,
                )
                continue
            try:
                keys = services.order_secrets_reveal(ticket=ticket, actor=request.user)
            except TicketError as error:
                self.message_user(request, f"{order.order_no}: {error.message}", messages.ERROR)
                continue
            rows.append(RevealedKeys(ticket.reference, order.order_no, keys))
        if rows:
            count = len(rows)
            self.message_user(
                request,
                ngettext("Revealed the keys of %(count)d order.", "Revealed the keys of %(count)d orders.", count)
                % {"count": count},
                messages.INFO,
            )
        return reveal_response(request, self, rows)
