from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from helpdesk.models import Shop, TimeStampedModel
from tickets.models.customers import Customer, Order
from tickets.models.organisation import Category, Queue, Tag


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    ON_HOLD = "on_hold", _("On hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Channel(models.TextChoices):
    WEB = "web", _("Web form")
    EMAIL = "email", pgettext_lazy("channel", "E-mail")
    CHAT = "chat", _("Live chat")
    API = "api", _("API")
    PLUGIN = "plugin", _("Plug-in")
    PHONE = "phone", _("Phone")


UNSOLVED_Q = models.Q(status__in=["new", "open", "pending", "on_hold"])


class Ticket(TimeStampedModel):
    """Every conversation, whatever its channel, so all channels share one queue and one history."""

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.PROTECT, related_name="tickets")
    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.SET_NULL)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="tickets")
    order = models.ForeignKey(
        Order, verbose_name=_("order"), null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="tickets")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    sentiment = models.FloatField(_("sentiment"), null=True, blank=True)
    # The classifier's reading (a category slug) and how sure it was; `category_confirmed` once an agent set
    # or kept the category (those tickets train the next model).
    intent = models.CharField(_("intent"), max_length=60, blank=True)
    intent_confidence = models.FloatField(_("intent confidence"), null=True, blank=True)
    category_confirmed = models.BooleanField(_("category confirmed by an agent"), default=False)
    # SLA clocks as data (DESIGN invariant 5): due times computed by tickets.services.sla when the ticket
    # changes; the sweep reads only `sla_next_due_at` through a partial index.
    sla_policy = models.ForeignKey(
        "tickets.SlaPolicy", verbose_name=_("SLA policy"), null=True, blank=True, on_delete=models.SET_NULL
    )
    sla_first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    sla_next_response_due_at = models.DateTimeField(_("next response due"), null=True, blank=True)
    sla_resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    sla_next_due_at = models.DateTimeField(_("next SLA check"), null=True, blank=True, editable=False)
    # The soonest running clock's due time (the console's countdown, "at risk" view and its count).
    sla_due_at = models.DateTimeField(_("SLA due"), null=True, blank=True, editable=False)
    # Start of the open next-response cycle (the customer message the desk owes an answer to) and its seq.
    sla_next_response_from = models.DateTimeField(null=True, blank=True, editable=False)
    sla_next_response_cycle = models.PositiveIntegerField(default=0, editable=False)
    # Intervals the clocks stood still (pending, on hold, solved): [[start, end|null], ...] in ISO 8601.
    sla_pauses = models.JSONField(default=list, blank=True, editable=False)
    sla_breached = models.BooleanField(_("SLA breached"), default=False)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Highest message seq so far; incremented under the ticket's row lock.
    last_seq = models.PositiveIntegerField(default=0, editable=False)
    # Highest seq the customer may see (internal notes excluded): the chat protocol's gap check (prev_seq).
    last_public_seq = models.PositiveIntegerField(default=0, editable=False)
    # A live chat is in progress (queued or active): replies reach the customer in the widget, not by e-mail.
    live_chat = models.BooleanField(_("live chat in progress"), default=False, editable=False)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    last_customer_message_at = models.DateTimeField(_("last customer message at"), null=True, blank=True)
    last_agent_message_at = models.DateTimeField(_("last agent message at"), null=True, blank=True)
    solved_at = models.DateTimeField(_("solved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    csat_score = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    csat_comment = models.TextField(_("satisfaction comment"), blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        permissions = [
            ("view_all_tickets", _("Can see every ticket (supervisor)")),
            ("reveal_secrets", _("Can reveal card keys and phone numbers")),
        ]
        indexes = [
            # The console's lists: by queue, by assignee, by shop; newest activity first.
            models.Index(fields=["status", "queue", "-updated_at"], name="ticket_status_queue_idx"),
            models.Index(fields=["assignee", "status", "-updated_at"], name="ticket_assignee_idx"),
            models.Index(fields=["shop", "status", "-updated_at"], name="ticket_shop_idx"),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer_idx"),
            models.Index(fields=["-updated_at", "-id"], name="ticket_updated_idx"),
            models.Index(fields=["-created_at", "-id"], name="ticket_created_idx"),
            # The inbox views: unsolved work by queue, by assignee, overall; newest activity first.
            models.Index(
                fields=["queue", "-updated_at", "-id"], name="ticket_unsolved_queue_idx", condition=UNSOLVED_Q
            ),
            models.Index(
                fields=["assignee", "-updated_at", "-id"], name="ticket_unsolved_assignee_idx", condition=UNSOLVED_Q
            ),
            models.Index(fields=["-updated_at", "-id"], name="ticket_unsolved_idx", condition=UNSOLVED_Q),
            # Console search: substring match on subjects, Chinese and English alike (pg_trgm).
            GinIndex(OpClass(Upper("subject"), name="gin_trgm_ops"), name="ticket_subject_trgm"),
            # The SLA sweep: only tickets with something still to fire are in it.
            models.Index(
                fields=["sla_next_due_at"],
                name="ticket_sla_due_idx",
                condition=models.Q(sla_next_due_at__isnull=False),
            ),
            # The "at risk" view: unsolved tickets with a running clock, soonest first.
            models.Index(
                fields=["sla_due_at", "id"],
                name="ticket_sla_at_risk_idx",
                condition=UNSOLVED_Q & models.Q(sla_due_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(csat_score__isnull=True) | models.Q(csat_score__gte=1, csat_score__lte=5),
                name="ticket_csat_range",
            ),
            models.CheckConstraint(condition=~models.Q(merged_into=models.F("id")), name="ticket_not_merged_into_self"),
            models.CheckConstraint(condition=models.Q(reference__regex=r"^T-\d{6,}$"), name="ticket_reference_format"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status not in {Status.SOLVED, Status.CLOSED}


class AuthorKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    BOT = "bot", _("Bot")
    SYSTEM = "system", _("System")


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField(_("sequence"))
    author_kind = models.CharField(_("author kind"), max_length=10, choices=AuthorKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, blank=True, on_delete=models.SET_NULL
    )
    author_name = models.CharField(_("author name"), max_length=120, blank=True)
    # Sanitised HTML with card keys and phone numbers masked.
    body = models.TextField(_("body"))
    is_internal = models.BooleanField(_("internal note"), default=False)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    client_msg_id = models.CharField(_("client message id"), max_length=64, null=True, blank=True)
    # Customer messages: the sentiment scorer's reading, -1..1 (kept per message for the trend).
    sentiment = models.FloatField(_("sentiment"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["ticket", "seq"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "seq"], name="message_seq_per_ticket"),
            models.UniqueConstraint(
                fields=["ticket", "client_msg_id"],
                condition=models.Q(client_msg_id__isnull=False),
                name="message_client_msg_id_per_ticket",
            ),
            models.CheckConstraint(
                condition=models.Q(is_internal=False) | models.Q(author_kind__in=["agent", "system", "bot"]),
                name="message_internal_only_by_staff",
            ),
        ]
        indexes = [GinIndex(OpClass(Upper("body"), name="gin_trgm_ops"), name="message_body_trgm")]

    def __str__(self) -> str:
        return f"{self.ticket_id}#{self.seq}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"attachments/{instance.message.ticket_id}/{instance.sha256[:16]}/{filename}"


class Attachment(models.Model):
    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class CannedReply(TimeStampedModel):
    """Reply templates (话术模板) with placeholders like {customer.name} and {order.order_no}."""

    title = models.CharField(_("title"), max_length=120)
    shortcut = models.SlugField(_("shortcut"), max_length=40)
    body = models.TextField(_("body"))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    shop = models.ForeignKey(
        Shop,
        verbose_name=_("shop"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("Empty for a reply every shop may use."),
    )
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.SET_NULL)
    is_active = models.BooleanField(_("active"), default=True)
    usage_count = models.PositiveIntegerField(_("times used"), default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["title"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        constraints = [
            models.UniqueConstraint(fields=["shortcut", "language"], name="canned_reply_shortcut_per_language")
        ]

    def __str__(self) -> str:
        return self.title
