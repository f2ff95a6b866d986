"""Queue background work after the surrounding transaction commits (never for a rolled-back change)."""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def automation_after_commit(ticket_id: int, *, trigger: str, seq: int) -> None:
    """Run sentiment, classifier, rules and routing for this ticket event in a worker."""

    def send() -> None:
        from tickets.tasks import run_automation

        try:
            run_automation.delay(ticket_id, trigger, seq)
        except Exception:  # broker down: the ticket is stored; automation for this event is skipped, logged
            logger.exception("could not queue automation for ticket %s (%s #%s)", ticket_id, trigger, seq)

    transaction.on_commit(send)
