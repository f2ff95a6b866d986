"""The e-mail outbox (DESIGN.md invariant 2): recorded in the change's transaction, sent after commit.

- `email_enqueue` renders the message (in the recipient's language) and stores it under a stable key, inside
  the caller's transaction; once that commits, a Celery task is asked to send it. If the broker is down the row
  simply waits for the beat sweep: nothing is lost.
- `outbox_email_send` sends one pending row while holding its row lock, then marks it sent, so two workers
  (the task and the sweep, or a retried task) never both send it. A crash between the SMTP server's "accepted"
  and our commit can still repeat a send (at-least-once); the Message-ID is derived from the key so mail
  systems can drop the duplicate.

The core imports no app: templates are named by the caller (`email/<language>/<template>.subject.txt`,
`.txt` and optional `.html`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string, select_template
from django.utils import timezone, translation

from helpdesk.models import OutboxEmail

logger = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 8
# A fresh row belongs to its on-commit task for this long before the sweep takes it as a straggler.
SWEEP_GRACE = timedelta(seconds=30)


class OutboxError(Exception):
    pass


def max_attempts() -> int:
    return int(getattr(settings, "OUTBOX_EMAIL_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))


def retry_delay(attempts: int) -> int:
    """Seconds before the next try: 1, 2, 4 ... minutes, at most an hour."""
    return int(min(60 * 2 ** max(attempts - 1, 0), 3600))


def _language(language: str | None) -> str:
    codes = [code for code, _name in settings.LANGUAGES]
    if language in codes:
        return language
    short = (language or "").split("-")[0].lower()
    if short == "zh":
        return "zh-hans"
    return short if short in codes else settings.LANGUAGE_CODE


def _render(template: str, language: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    def names(suffix: str) -> list[str]:
        return [f"email/{language}/{template}.{suffix}", f"email/en/{template}.{suffix}"]

    with translation.override(language):
        subject = render_to_string(names("subject.txt"), dict(context))
        text = render_to_string(names("txt"), dict(context))
        try:
            html = select_template(names("html")).render(dict(context))
        except TemplateDoesNotExist:
            html = ""
    return " ".join(subject.split()), text.strip() + "\n", html


def message_id_for(key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{digest}@{_from_domain()}>"


def _from_domain() -> str:
    sender = str(getattr(settings, "DEFAULT_FROM_EMAIL", "") or "")
    address = sender.rsplit("<", 1)[-1].rstrip(">")
    return address.rsplit("@", 1)[-1] if "@" in address else "carddesk.localhost"


def email_enqueue(
    *,
    to: str,
    template: str,
    context: Mapping[str, Any],
    key: str,
    subject: str | None = None,
    language: str | None = None,
) -> OutboxEmail:
    """Record an e-mail in the current transaction; it is sent after commit. Same key → the same row, once.

    `subject` overrides the rendered `<template>.subject.txt`. Must run inside the change's transaction.
    """
    if not connection.in_atomic_block:
        raise OutboxError("email_enqueue must be called inside the change's transaction")
    to = (to or "").strip()
    if not to or "@" not in to:
        raise OutboxError(f"not an e-mail address: {to!r}")
    key = key[:200]
    existing = OutboxEmail.objects.filter(key=key).first()
    if existing is not None:
        return existing
    language = _language(language)
    rendered_subject, text, html = _render(template, language, context)
    with transaction.atomic():  # savepoint: a concurrent insert of the same key loses cleanly
        email, created = OutboxEmail.objects.get_or_create(
            key=key,
            defaults={
                "to": to,
                "subject": (str(subject) if subject is not None else rendered_subject)[:300],
                "body_text": text,
                "body_html": html,
                "template": template[:100],
                "language": language,
            },
        )
    if created:
        email_id = email.pk
        transaction.on_commit(lambda: _schedule_send(email_id), robust=True)
    return email


def _schedule_send(email_id: int) -> None:
    from helpdesk.tasks import send_outbox_email

    try:
        send_outbox_email.delay(email_id)
    except Exception:  # broker down: the beat sweep sends it later
        logger.warning("could not queue outbox e-mail %s; the sweep will send it", email_id, exc_info=True)


@dataclass(frozen=True)
class SendResult:
    status: str  # "sent", "skipped" (already sent / taken by another worker), "retry", "failed"
    retry_in: int | None = None


def outbox_email_send(*, email_id: int) -> SendResult:
    """Send one pending e-mail at most once; record the error and the next attempt time when it fails."""
    with transaction.atomic():
        email = (
            OutboxEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=OutboxEmail.Status.PENDING)
            .first()
        )
        if email is None:
            return SendResult("skipped")
        now = timezone.now()
        email.attempts += 1
        message = EmailMultiAlternatives(
            subject=email.subject,
            body=email.body_text.reveal() if email.body_text else "",
            to=[email.to],
            headers={"Message-ID": message_id_for(email.key), "X-CardDesk-Key": email.key},
        )
        if email.body_html:
            message.attach_alternative(email.body_html.reveal(), "text/html")
        try:
            message.send(fail_silently=False)
        except Exception as error:
            email.last_error = f"{type(error).__name__}: {error}"[:2000]
            if email.attempts >= max_attempts():
                email.status = OutboxEmail.Status.FAILED
                email.next_attempt_at = None
                result = SendResult("failed")
                logger.error("outbox e-mail %s failed for good: %s", email.pk, email.last_error)
            else:
                delay = retry_delay(email.attempts)
                email.next_attempt_at = now + timedelta(seconds=delay)
                result = SendResult("retry", retry_in=delay)
                logger.warning("outbox e-mail %s failed (attempt %s): %s", email.pk, email.attempts, email.last_error)
            email.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            return result
        email.status = OutboxEmail.Status.SENT
        email.sent_at = timezone.now()
        email.next_attempt_at = None
        email.save(update_fields=["attempts", "status", "sent_at", "next_attempt_at"])
        return SendResult("sent")


def outbox_email_due_ids(*, limit: int = 200) -> list[int]:
    """Pending e-mails whose on-commit send never happened or whose retry time has come."""
    now = timezone.now()
    return list(
        OutboxEmail.objects.filter(status=OutboxEmail.Status.PENDING, created_at__lte=now - SWEEP_GRACE)
        .exclude(next_attempt_at__gt=now)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
