from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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
    # Which hash chain the event extends (helpdesk.audit: one chain per transaction, so appends run in parallel).
    chain = models.PositiveSmallIntegerField(_("chain"), default=0, editable=False)
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
            models.Index(fields=["chain", "-id"], name="audit_chain_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class AuditCheckpoint(models.Model):
    """A periodic HMAC-signed statement of the chain head: truncating the tail becomes detectable too."""

    created_at = models.DateTimeField(_("at"), auto_now_add=True)
    chain = models.PositiveSmallIntegerField(_("chain"), default=0)
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


def _mask_outbox_body(value: str) -> str:
    """Outbox bodies carry one-time links (tracking tokens): printed, they show the links' tokens hidden."""
    import re

    return re.sub(r"(/t/)[A-Za-z0-9_-]{8,}", r"\1****", value)


class OutboxEmail(models.Model):
    """An e-mail recorded in the transaction of the change that causes it, sent after commit (invariant 2).

    `key` is the caller's stable idempotency key ("ticket-received:42"): enqueuing it twice stores one row,
    and a row is sent at most once by the workers (row lock + status). The bodies are encrypted at rest
    because they carry bearer links.
    """

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("e-mail status", "Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    to = models.EmailField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=300)
    body_text = EncryptedTextField(_("text body"), masker=_mask_outbox_body)
    body_html = EncryptedTextField(_("HTML body"), blank=True, default="", masker=_mask_outbox_body)
    template = models.CharField(_("template"), max_length=100)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        indexes = [
            # The sweep's only question: which pending e-mails are due? (few rows: sent ones drop out)
            models.Index(fields=["next_attempt_at"], name="outbox_email_due_idx", condition=models.Q(status="pending")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="sent", sent_at__isnull=False) | ~models.Q(status="sent"),
                name="outbox_email_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.to}"
