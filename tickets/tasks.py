"""Celery tasks of the ticket domain: ids in, one service call out (STYLE.md habit 6)."""

from celery import shared_task

from helpdesk import context


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def run_automation(ticket_id: int, trigger: str, seq: int) -> dict:
    """After a ticket is created or a customer writes: sentiment, classifier, rules, routing (idempotent)."""
    from tickets.services.automation import automation_run

    with context.bound(actor_label="task:automation"):
        result = automation_run(ticket_id=ticket_id, trigger=trigger, seq=seq)
    return {"rules": result.rules, "intent": result.intent, "routed_to": result.routed_to}


@shared_task(acks_late=True, ignore_result=True)
def sla_sweep() -> int:
    """Beat: fire every SLA warning and breach that is due (exactly once, with any number of workers)."""
    from tickets.services.sla import sla_sweep as sweep

    with context.bound(actor_label="task:sla_sweep"):
        return sweep()


@shared_task(acks_late=True)
def sla_recompute(policy_id: int | None = None, calendar_id: int | None = None, orphans: bool = False) -> int:
    """After a policy or calendar edit: recompute the due times of the open tickets it affects."""
    from tickets.services.sla_upkeep import sla_recompute as recompute

    with context.bound(actor_label="task:sla_recompute"):
        return recompute(policy_id=policy_id, calendar_id=calendar_id, orphans=orphans)


@shared_task(acks_late=True)
def classifier_retrain() -> int:
    """Beat, nightly: retrain the category classifier on the desk's confirmed tickets."""
    from tickets.services.classifier import classifier_train

    with context.bound(actor_label="task:classifier_retrain"):
        return classifier_train().pk


@shared_task(acks_late=True)
def tickets_housekeeping() -> dict:
    """Beat: close long-solved tickets, remind customers of pending ones."""
    from tickets.services.housekeeping import pending_remind, solved_autoclose

    with context.bound(actor_label="task:housekeeping"):
        return {"closed": solved_autoclose(), "reminded": pending_remind()}


@shared_task(acks_late=True, ignore_result=True)
def routing_overflow() -> int:
    """Beat: move tickets that waited too long to their queue's overflow queue."""
    from tickets.services.routing import routing_overflow_sweep

    with context.bound(actor_label="task:routing_overflow"):
        return routing_overflow_sweep()
