"""Automation's configuration and logs: business calendars, SLA policies and their event log, rules and their
execution log, and the trained category classifier."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Shop, TimeStampedModel
from tickets.models.organisation import Category, Queue


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Calendar(TimeStampedModel):
    """Business hours: weekly slots in a time zone, with holidays and make-up working days (调休) as overrides."""

    name = models.CharField(_("name"), max_length=100)
    time_zone = models.CharField(_("time zone"), max_length=50, default="Asia/Shanghai")
    always_open = models.BooleanField(_("24 × 7"), default=False, help_text=_("Every hour counts; slots ignored."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError({"time_zone": _("Unknown time zone %(tz)s.") % {"tz": self.time_zone}}) from exc


def _check_hours(start, end, field: str = "end") -> None:
    if end is not None and end <= start:
        raise ValidationError({field: _("The end must be after the start (leave it empty for midnight).")})


class CalendarSlot(models.Model):
    """One weekly opening slot; several per day are allowed (e.g. 09:00–12:00 and 13:00–18:00)."""

    calendar = models.ForeignKey(Calendar, verbose_name=_("calendar"), on_delete=models.CASCADE, related_name="slots")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("opens"))
    end = models.TimeField(_("closes"), null=True, blank=True, help_text=_("Empty = midnight."))

    class Meta:
        ordering = ["calendar", "weekday", "start"]
        verbose_name = _("opening slot")
        verbose_name_plural = _("opening slots")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__isnull=True) | models.Q(end__gt=models.F("start")), name="slot_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end.strftime('%H:%M') if self.end else '24:00'}"

    def clean(self) -> None:
        _check_hours(self.start, self.end)


class CalendarOverride(models.Model):
    """A date that differs from the weekly slots: a holiday (closed) or a make-up working day with its hours.

    Several rows on one date give several slots that day; one `closed` row closes the whole day.
    """

    calendar = models.ForeignKey(
        Calendar, verbose_name=_("calendar"), on_delete=models.CASCADE, related_name="overrides"
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=80, blank=True, help_text=_("e.g. 国庆节 or 调休上班"))
    closed = models.BooleanField(_("closed all day"), default=True)
    start = models.TimeField(_("opens"), null=True, blank=True)
    end = models.TimeField(_("closes"), null=True, blank=True, help_text=_("Empty = midnight."))

    class Meta:
        ordering = ["calendar", "date", "start"]
        verbose_name = _("holiday or working-day override")
        verbose_name_plural = _("holidays and working-day overrides")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closed=True) | models.Q(start__isnull=False), name="override_open_needs_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()

    def clean(self) -> None:
        if not self.closed:
            if self.start is None:
                raise ValidationError({"start": _("A working day needs its opening time.")})
            _check_hours(self.start, self.end)


class SlaPolicy(TimeStampedModel):
    """Targets for first response, next response and resolution, for the tickets its conditions match.

    Policies are tried in `position` order; the first whose conditions all match applies (an empty condition
    matches anything). A ticket no policy matches takes its queue's default policy, if any.
    """

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    priorities = ArrayField(models.CharField(max_length=10), verbose_name=_("priorities"), default=list, blank=True)
    tiers = ArrayField(models.CharField(max_length=10), verbose_name=_("customer tiers"), default=list, blank=True)
    channels = ArrayField(models.CharField(max_length=10), verbose_name=_("channels"), default=list, blank=True)
    categories = models.ManyToManyField(Category, verbose_name=_("categories"), blank=True)
    shops = models.ManyToManyField(Shop, verbose_name=_("shops"), blank=True)
    first_response_minutes = models.PositiveIntegerField(_("first response (minutes)"), null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(_("next response (minutes)"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(_("resolution (minutes)"), null=True, blank=True)
    calendar = models.ForeignKey(
        Calendar,
        verbose_name=_("business calendar"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("Empty = around the clock (24 × 7)."),
    )
    warn_percentages = ArrayField(
        models.PositiveSmallIntegerField(),
        verbose_name=_("warn at percent elapsed"),
        default=list,
        blank=True,
        help_text=_("e.g. 50,80"),
    )
    warn_minutes_before = ArrayField(
        models.PositiveIntegerField(),
        verbose_name=_("warn minutes before due"),
        default=list,
        blank=True,
        help_text=_("e.g. 10,2"),
    )
    escalate_notify_supervisors = models.BooleanField(_("on breach: alert supervisors"), default=True)
    escalate_raise_priority = models.BooleanField(_("on breach: raise priority one step"), default=False)
    escalate_queue = models.ForeignKey(
        Queue,
        verbose_name=_("on breach: move to queue"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    escalate_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("on breach: reassign to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from tickets.models.customers import CustomerTier
        from tickets.models.tickets import Channel, Priority

        for field, allowed in (("priorities", Priority), ("tiers", CustomerTier), ("channels", Channel)):
            unknown = sorted(set(getattr(self, field)) - set(allowed.values))
            if unknown:
                raise ValidationError({field: _("Unknown values: %(values)s.") % {"values": ", ".join(unknown)}})
        if any(p < 1 or p > 99 for p in self.warn_percentages):
            raise ValidationError({"warn_percentages": _("Percentages must be between 1 and 99.")})
        if not (self.first_response_minutes or self.next_response_minutes or self.resolution_minutes):
            raise ValidationError(_("Set at least one target."))


class SlaMetric(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")


class SlaEventKind(models.TextChoices):
    APPLIED = "applied", _("Applied")
    PAUSED = "paused", _("Paused")
    RESUMED = "resumed", _("Resumed")
    WARNED = "warned", _("Warned")
    BREACHED = "breached", _("Breached")
    FULFILLED = "fulfilled", _("Fulfilled")


class SlaEvent(models.Model):
    """The ticket's SLA log. Warnings and breaches are unique per (ticket, metric, cycle, threshold): the
    constraint, not the sweep's care, is what makes each fire exactly once."""

    ticket = models.ForeignKey(
        "tickets.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="sla_events"
    )
    policy = models.ForeignKey(SlaPolicy, verbose_name=_("policy"), null=True, on_delete=models.SET_NULL)
    kind = models.CharField(_("kind"), max_length=10, choices=SlaEventKind.choices)
    metric = models.CharField(_("metric"), max_length=20, choices=SlaMetric.choices, blank=True)
    # The metric's cycle: 0 for first response and resolution; the customer message's seq for next response.
    cycle = models.PositiveIntegerField(_("cycle"), default=0)
    # Warnings: "p50" (percent elapsed) or "m10" (minutes before); breaches and others: "".
    threshold = models.CharField(_("threshold"), max_length=10, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["ticket", "id"]
        verbose_name = _("SLA event")
        verbose_name_plural = _("SLA events")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "kind", "metric", "cycle", "threshold"],
                condition=models.Q(kind__in=["warned", "breached", "fulfilled"]),
                name="sla_event_fires_once",
            )
        ]
        indexes = [models.Index(fields=["kind", "created_at"], name="sla_event_kind_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.metric} {self.threshold}".strip()


class RuleTrigger(models.TextChoices):
    CREATED = "created", _("Ticket created")
    CUSTOMER_MESSAGE = "customer_message", _("Customer message")


class Rule(TimeStampedModel):
    """If the conditions match, do the actions. Conditions and actions are JSON lists validated on save
    (see tickets.automation.rules for the vocabulary); rules run in `position` order."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    is_builtin = models.BooleanField(_("built in"), default=False, editable=False)
    triggers = ArrayField(
        models.CharField(max_length=20, choices=RuleTrigger.choices),
        verbose_name=_("runs on"),
        default=list,
        help_text=_("created, customer_message"),
    )
    match_all = models.BooleanField(_("all conditions must match"), default=True, help_text=_("Otherwise any."))
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    actions = models.JSONField(_("actions"), default=list)
    stop_processing = models.BooleanField(_("stop after this rule"), default=False)
    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), null=True, blank=True, on_delete=models.CASCADE, help_text=_("Empty = all.")
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("rule")
        verbose_name_plural = _("rules")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from tickets.automation.rules import RuleError, validate_actions, validate_conditions

        unknown = sorted(set(self.triggers) - set(RuleTrigger.values))
        if unknown or not self.triggers:
            raise ValidationError({"triggers": _("Choose created and/or customer_message.")})
        try:
            validate_conditions(self.conditions)
        except RuleError as exc:
            raise ValidationError({"conditions": str(exc)}) from exc
        try:
            validate_actions(self.actions)
        except RuleError as exc:
            raise ValidationError({"actions": str(exc)}) from exc


class RuleExecution(models.Model):
    """One rule's run on one ticket event; unique per (rule, ticket, trigger, seq), so a retried task re-runs
    nothing."""

    rule = models.ForeignKey(Rule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="executions")
    ticket = models.ForeignKey(
        "tickets.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="rule_executions"
    )
    trigger = models.CharField(_("trigger"), max_length=20, choices=RuleTrigger.choices)
    seq = models.PositiveIntegerField(_("message seq"))
    applied = models.JSONField(_("actions applied"), default=list)
    created_at = models.DateTimeField(_("ran at"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("rule execution")
        verbose_name_plural = _("rule executions")
        constraints = [models.UniqueConstraint(fields=["rule", "ticket", "trigger", "seq"], name="rule_execution_once")]
        indexes = [models.Index(fields=["rule", "-id"], name="rule_execution_rule_idx")]

    def __str__(self) -> str:
        return f"{self.rule_id} → {self.ticket_id}"


class ClassifierModel(models.Model):
    """A trained category classifier (serialised in the database, so every worker and web process loads the
    same one). The newest active row is used."""

    created_at = models.DateTimeField(_("trained at"), auto_now_add=True)
    sample_count = models.PositiveIntegerField(_("training samples"))
    labels = ArrayField(models.CharField(max_length=60), verbose_name=_("labels"))
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    data = models.BinaryField(editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("classifier model")
        verbose_name_plural = _("classifier models")

    def __str__(self) -> str:
        return f"#{self.pk} ({self.sample_count} samples, {self.created_at:%Y-%m-%d %H:%M})"
