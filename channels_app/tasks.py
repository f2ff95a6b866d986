from celery import shared_task

from helpdesk import context


@shared_task(acks_late=True)
def chat_missed_sweep() -> int:
    """Beat: waiting chats nobody accepted in time continue as tickets (the customer is e-mailed a link)."""
    from channels_app.services import chat_missed_sweep as sweep

    with context.bound(actor_label="task:chat_missed_sweep"):
        return sweep()
