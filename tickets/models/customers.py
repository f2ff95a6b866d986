from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from helpdesk.fields import EncryptedTextField
from helpdesk.masking import mask_card_keys, mask_phone
from helpdesk.models import Shop, TimeStampedModel


class CustomerTier(models.TextChoices):
    NORMAL = "normal", _("Normal")
    VIP = "vip", _("VIP")


class Customer(TimeStampedModel):
    """A shop's end customer, keyed by the platform's own user id when it has one."""

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.PROTECT, related_name="customers")
    external_id = models.CharField(_("platform user id"), max_length=100, blank=True)
    name = models.CharField(_("name"), max_length=120, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = EncryptedTextField(_("phone"), blank=True, default="", masker=mask_phone)
    # HMAC of the normalised phone number, for exact-match search without storing it in clear.
    phone_digest = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    tier = models.CharField(_("tier"), max_length=10, choices=CustomerTier.choices, default=CustomerTier.NORMAL)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("portal login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customer_profiles",
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "external_id"],
                condition=~models.Q(external_id=""),
                name="customer_external_id_per_shop",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "email"], name="customer_shop_email_idx"),
            models.Index(fields=["email"], name="customer_email_idx"),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.external_id or f"#{self.pk}"


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", _("Unpaid")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    REFUNDED = "refunded", _("Refunded")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("delivery status", "Pending")
    DELIVERED = "delivered", _("Delivered")
    PARTIAL = "partial", _("Partially delivered")
    FAILED = "failed", _("Failed")


class Order(TimeStampedModel):
    """A snapshot of the platform's order, pushed by it or fetched by callback, for the agent's context."""

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.PROTECT, related_name="orders")
    order_no = models.CharField(_("order number"), max_length=64)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    product = models.CharField(_("product"), max_length=200, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    payment_status = models.CharField(
        _("payment status"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    payment_channel = models.CharField(_("payment channel"), max_length=40, blank=True)
    delivery_status = models.CharField(
        _("delivery status"), max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    # One card key / redeem code per line; encrypted at rest, masked whenever printed.
    card_keys = EncryptedTextField(_("delivered card keys"), blank=True, default="", masker=mask_card_keys)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    # The platform's payload with card-key-like fields removed before storing.
    raw = models.JSONField(_("raw payload"), default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [models.UniqueConstraint(fields=["shop", "order_no"], name="order_no_per_shop")]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="order_customer_idx"),
            models.Index(fields=["order_no"], name="order_no_idx"),  # console search across shops
        ]

    def __str__(self) -> str:
        return self.order_no

    @property
    def card_key_count(self) -> int:
        return len(self.card_keys.reveal().splitlines()) if self.card_keys else 0
