from celery import shared_task

from helpdesk import context
from helpdesk.audit import audit_checkpoint_create


@shared_task(acks_late=True)
def audit_checkpoint() -> int | None:
    with context.bound(actor_label="task:audit_checkpoint"):
        checkpoint = audit_checkpoint_create()
    return checkpoint.last_event_id if checkpoint else None
