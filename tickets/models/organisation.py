from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Shop, TimeStampedModel


class Queue(TimeStampedModel):
    """A team / skill group. Agents work the queues granted to them with guardian's `work_queue`."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    shop = models.ForeignKey(
        Shop,
        verbose_name=_("shop"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("Empty for a queue that serves every shop."),
    )
    skills = ArrayField(models.CharField(max_length=40), verbose_name=_("skills"), default=list, blank=True)
    overflow_queue = models.ForeignKey(
        "self", verbose_name=_("overflow queue"), null=True, blank=True, on_delete=models.SET_NULL
    )
    overflow_threshold = models.PositiveIntegerField(
        _("overflow threshold"), default=0, help_text=_("Waiting tickets above which new ones overflow; 0 = never.")
    )
    overflow_wait_minutes = models.PositiveIntegerField(
        _("overflow after waiting (minutes)"),
        default=0,
        help_text=_("Unassigned tickets waiting longer than this move to the overflow queue; 0 = never."),
    )
    is_vip = models.BooleanField(_("VIP queue"), default=False)
    calendar = models.ForeignKey(
        "tickets.Calendar",
        verbose_name=_("business calendar"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Business hours for routing and rules; SLA policies carry their own."),
    )
    sla_policy = models.ForeignKey(
        "tickets.SlaPolicy",
        verbose_name=_("default SLA policy"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Applies when no SLA policy's conditions match."),
    )
    auto_assign = models.BooleanField(
        _("assign automatically"),
        default=False,
        help_text=_("Route new tickets to the least-loaded online agent with the queue's skills."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        permissions = [("work_queue", _("Can work the tickets in this queue"))]

    def __str__(self) -> str:
        return self.name


class Presence(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class AgentProfile(TimeStampedModel):
    """An agent's working attributes. Which queues they work is a guardian grant on the Queue, not a copy here."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="agent_profile"
    )
    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    skills = ArrayField(models.CharField(max_length=40), verbose_name=_("skills"), default=list, blank=True)
    max_concurrent_chats = models.PositiveSmallIntegerField(_("max concurrent chats"), default=3)
    max_open_tickets = models.PositiveSmallIntegerField(
        _("max open tickets"), default=20, help_text=_("Routing assigns no more unsolved tickets than this.")
    )
    # Round-robin among equally loaded agents: the one routed to longest ago goes first.
    last_routed_at = models.DateTimeField(_("last routed at"), null=True, blank=True, editable=False)
    presence = models.CharField(_("presence"), max_length=10, choices=Presence.choices, default=Presence.OFFLINE)
    presence_changed_at = models.DateTimeField(_("presence changed at"), null=True, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=50, default="Asia/Shanghai")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")

    class Meta:
        verbose_name = _("agent profile")
        verbose_name_plural = _("agent profiles")

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()


class Category(TimeStampedModel):
    """Problem category (payment, delivery, invalid card key, refund...), nested one level."""

    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    default_queue = models.ForeignKey(
        Queue, verbose_name=_("default queue"), null=True, blank=True, on_delete=models.SET_NULL
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.CheckConstraint(condition=~models.Q(parent=models.F("id")), name="category_not_own_parent")
        ]

    def __str__(self) -> str:
        return f"{self.parent} / {self.name}" if self.parent_id else self.name


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    color = models.CharField(_("colour"), max_length=7, default="#64748b")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name
