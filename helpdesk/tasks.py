from celery import shared_task

from helpdesk import context
from helpdesk.audit import audit_checkpoint_create


@shared_task(acks_late=True)
def audit_checkpoint() -> int:
    """Beat: sign each audit chain's head (the number of chains that moved)."""
    with context.bound(actor_label="task:audit_checkpoint"):
        return len(audit_checkpoint_create())


@shared_task(bind=True, acks_late=True, max_retries=None)
def send_outbox_email(self, email_id: int) -> str:
    """Send one outbox e-mail; on failure retry after the backoff the service recorded (it caps attempts)."""
    from helpdesk.outbox import outbox_email_send

    with context.bound(actor_label="task:send_outbox_email"):
        result = outbox_email_send(email_id=email_id)
    if result.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=result.retry_in)
    return result.status


@shared_task(acks_late=True)
def outbox_email_sweep() -> int:
    """Beat: queue the pending e-mails whose on-commit send was lost (broker outage) or whose retry is due."""
    from helpdesk.outbox import outbox_email_due_ids

    ids = outbox_email_due_ids()
    for email_id in ids:
        send_outbox_email.delay(email_id)
    return len(ids)
