from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.models.organisation import Queue
from tickets.models.tickets import Ticket


class CsatResponse(models.Model):
    """The customer's satisfaction rating of a solved ticket, credited to the agent and queue that solved it.

    One per ticket (a second submission within the update window changes it); the ticket keeps a copy in
    csat_score / csat_comment for lists.
    """

    ticket = models.OneToOneField(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="csat_response"
    )
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="csat_responses",
    )
    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), null=True, blank=True, on_delete=models.SET_NULL, related_name="csat_responses"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("satisfaction response")
        verbose_name_plural = _("satisfaction responses")
        constraints = [
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="csat_response_score_range"),
        ]
        indexes = [
            models.Index(fields=["agent", "-created_at"], name="csat_agent_idx"),
            models.Index(fields=["queue", "-created_at"], name="csat_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.score}"
