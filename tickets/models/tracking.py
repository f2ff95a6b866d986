from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.tickets import Ticket


class TrackingToken(models.Model):
    """A link that lets a customer without an account follow one ticket (/help/t/<token>/).

    Only the SHA-256 of the token is stored: the plain token exists once, in the confirmation page and the
    e-mails that carry it. Each e-mail to the customer gets its own token; revoking is per token or per ticket.
    """

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="tracking_tokens"
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("tracking link")
        verbose_name_plural = _("tracking links")
        indexes = [models.Index(fields=["ticket", "-id"], name="tracking_token_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id}:{self.token_hash[:8]}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
