"""Live chat on top of tickets: a chat is a ticket with channel `chat` plus a ChatSession (DESIGN.md §3).

The ticket holds the conversation (messages, seq, history, permissions); the session holds what only a live
conversation has: who is waiting, who accepted, read positions, how it ended and the customer's resume token.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from helpdesk.models import Shop, TimeStampedModel
from tickets.models import Customer, Order, Queue, Ticket


def new_widget_key() -> str:
    return "pk_" + secrets.token_urlsafe(18)


class ChatWidget(TimeStampedModel):
    """A shop's embeddable widget: its public key, where it may be embedded and which queue answers it."""

    shop = models.OneToOneField(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="chat_widget")
    # Public (it is in the embed snippet); the shop's widget_secret signs context tokens.
    public_key = models.CharField(_("public key"), max_length=40, unique=True, default=new_widget_key)
    allowed_origins = ArrayField(
        models.CharField(max_length=200),
        verbose_name=_("allowed origins"),
        default=list,
        blank=True,
        help_text=_(
            "Sites that may embed the widget, e.g. https://shop.example.com (this desk's own host always may)."
        ),
    )
    queue = models.ForeignKey(
        Queue,
        verbose_name=_("chat queue"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text=_("Where new chats wait when their topic names no category with a default queue."),
    )
    is_enabled = models.BooleanField(_("enabled"), default=True)
    bot_enabled = models.BooleanField(_("bot answers"), default=True)
    greeting = models.CharField(_("greeting"), max_length=300, blank=True)
    missed_after_seconds = models.PositiveIntegerField(
        _("missed after (seconds)"),
        default=600,
        help_text=_("A chat nobody accepted in this time continues as a ticket answered by e-mail."),
    )

    class Meta:
        verbose_name = _("chat widget")
        verbose_name_plural = _("chat widgets")

    def __str__(self) -> str:
        return f"{self.shop} ({self.public_key})"


class ChatState(models.TextChoices):
    NEW = "new", pgettext_lazy("chat state", "New")  # said hello, sent nothing yet: no ticket
    QUEUED = "queued", _("Waiting")
    ACTIVE = "active", pgettext_lazy("chat state", "Active")
    ENDED = "ended", _("Ended")
    MISSED = "missed", _("Missed")  # nobody accepted in time, or no agent was online: continues as a ticket


class EndReason(models.TextChoices):
    CUSTOMER = "customer", _("Ended by the customer")
    AGENT = "agent", _("Ended by the agent")
    DEFLECTED = "deflected", _("Solved by an article")
    TIMEOUT = "timeout", _("Nobody answered in time")
    OFFLINE = "offline", _("No agent was available")


LIVE_STATES = (ChatState.QUEUED, ChatState.ACTIVE)


class ChatSession(models.Model):
    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="chat_sessions"
    )
    # Created with the customer's first message, so an unused widget leaves no ticket behind.
    ticket = models.OneToOneField(
        Ticket, verbose_name=_("ticket"), null=True, blank=True, on_delete=models.CASCADE, related_name="chat"
    )
    queue = models.ForeignKey(Queue, verbose_name=_("queue"), null=True, blank=True, on_delete=models.SET_NULL)
    # The order the chat is about (from the context token or the pre-chat form), until the ticket carries it.
    order = models.ForeignKey(Order, verbose_name=_("order"), null=True, blank=True, on_delete=models.SET_NULL)
    state = models.CharField(_("state"), max_length=10, choices=ChatState.choices, default=ChatState.NEW)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_sessions",
    )
    topic = models.CharField(_("topic"), max_length=200, blank=True)
    # An order number typed in the pre-chat form that is not this customer's: noted for the agent, not attached.
    claimed_order_no = models.CharField(_("order number given"), max_length=64, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    page_url = models.URLField(_("page"), max_length=500, blank=True)
    # SHA-256 of the bearer token the widget keeps to resume this conversation.
    resume_token_hash = models.CharField(max_length=64, unique=True, editable=False)
    wants_human = models.BooleanField(_("asked for a person"), default=False)
    customer_read_seq = models.PositiveIntegerField(default=0)
    agent_read_seq = models.PositiveIntegerField(default=0)
    end_reason = models.CharField(_("end reason"), max_length=10, choices=EndReason.choices, blank=True)
    deflected_by = models.ForeignKey(
        "knowledge.Article",
        verbose_name=_("solved by article"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("chat")
        verbose_name_plural = _("chats")
        indexes = [
            # Queue position and the incoming list: who waits in this queue, oldest first.
            models.Index(
                fields=["queue", "queued_at", "id"], name="chat_waiting_idx", condition=models.Q(state="queued")
            ),
            # Capacity: an agent's active chats.
            models.Index(fields=["agent"], name="chat_active_agent_idx", condition=models.Q(state="active")),
            # Recent handling times for the wait estimate.
            models.Index(
                fields=["queue", "-ended_at"], name="chat_ended_idx", condition=models.Q(accepted_at__isnull=False)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="active") | models.Q(agent__isnull=False, accepted_at__isnull=False),
                name="chat_active_has_agent",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=["new", "ended"]) | models.Q(ticket__isnull=False),
                name="chat_ticket_after_new",
            ),
        ]

    def __str__(self) -> str:
        return f"chat {self.pk} ({self.state})"

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES


class ChatTransfer(models.Model):
    """One hand-over of a chat: to another agent, or back to a queue, with a note for the next person."""

    session = models.ForeignKey(ChatSession, verbose_name=_("chat"), on_delete=models.CASCADE, related_name="transfers")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("from"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("to agent"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_queue = models.ForeignKey(Queue, verbose_name=_("to queue"), null=True, on_delete=models.SET_NULL)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("chat transfer")
        verbose_name_plural = _("chat transfers")

    def __str__(self) -> str:
        return f"{self.session_id}: {self.from_agent_id} → {self.to_agent_id or self.to_queue_id}"
