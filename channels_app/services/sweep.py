"""Chats nobody accepted in time continue as tickets (run by Celery beat every minute)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import DurationField, ExpressionWrapper, F
from django.utils import timezone

from channels_app.models import ChatSession, ChatState, EndReason
from channels_app.services.sessions import _end, _lock
from helpdesk import context

BATCH = 200


def chat_missed_sweep(*, now=None) -> int:
    """Mark waiting chats older than their widget's `missed_after_seconds` as missed, each in its own transaction.

    Safe to run twice at once: each chat is re-read under its row lock and skipped unless still waiting.
    """
    now = now or timezone.now()
    due = (
        ChatSession.objects.filter(state=ChatState.QUEUED)
        .annotate(
            limit=ExpressionWrapper(
                F("shop__chat_widget__missed_after_seconds") * timedelta(seconds=1), output_field=DurationField()
            )
        )
        .filter(queued_at__lt=now - F("limit"))
        .values_list("pk", flat=True)[:BATCH]
    )
    count = 0
    for session_id in list(due):
        with transaction.atomic(), context.bound(actor_label="chat-sweep"):
            session = _lock(session_id)
            if session.state != ChatState.QUEUED:
                continue
            _end(session, reason=EndReason.TIMEOUT, actor=None)
            count += 1
    return count
