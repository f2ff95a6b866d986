from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.fields import EncryptedTextField
from helpdesk.masking import mask_card_key


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class Shop(TimeStampedModel):
    """A tenant: one merchant on the card platform. A single-shop install has one Shop."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    # Signs the chat widget's context tokens (HMAC-SHA256); encrypted, shown masked.
    widget_secret = EncryptedTextField(_("widget signing secret"), blank=True, default="", masker=mask_card_key)
    order_callback_url = models.URLField(_("order lookup callback URL"), blank=True)
    default_language = models.CharField(
        _("default language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        permissions = [
            ("access_shop", _("Can see and answer the shop's tickets, customers and orders")),
            ("manage_shop", _("Can manage the shop's settings and staff")),
        ]

    def __str__(self) -> str:
        return self.name


class AuditEvent(models.Model):
    """One state change, append-only (a database trigger refuses UPDATE and DELETE).

    Each event stores the hash of the previous one, so `manage.py audit_verify` can prove nothing was
    changed or removed from the middle of the trail.
    """

    created_at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(_("actor label"), max_length=150)
    action = models.CharField(_("action"), max_length=80)
    object_type = models.CharField(_("object type"), max_length=80, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["object_type", "object_id", "-id"], name="audit_object_idx"),
            models.Index(fields=["actor", "-id"], name="audit_actor_idx"),
            models.Index(fields=["action", "-id"], name="audit_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class AuditCheckpoint(models.Model):
    """A periodic HMAC-signed statement of the chain head: truncating the tail becomes detectable too."""

    created_at = models.DateTimeField(_("at"), auto_now_add=True)
    last_event_id = models.BigIntegerField(_("last event id"))
    last_hash = models.CharField(_("last hash"), max_length=64)
    event_count = models.BigIntegerField(_("event count"))
    signature = models.CharField(_("signature"), max_length=64)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")

    def __str__(self) -> str:
        return f"#{self.last_event_id} {self.last_hash[:12]}"
