import time

import pytest

from helpdesk.celery import app
from helpdesk.models import AuditCheckpoint, AuditEvent
from tests.factories import make_ticket


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.integration
def test_beat_task_runs_on_a_real_worker_through_redis(celery_worker_queue, shop, queue):
    """audit_checkpoint, enqueued on the Redis broker, is executed by a separate worker process."""
    make_ticket(shop=shop, queue=queue)
    head = AuditEvent.objects.order_by("-id").first()
    app.conf.task_always_eager = False
    try:
        app.send_task("helpdesk.tasks.audit_checkpoint", queue=celery_worker_queue)
        assert wait_for(lambda: AuditCheckpoint.objects.filter(last_event_id=head.pk).exists())
    finally:
        app.conf.task_always_eager = True
    checkpoint = AuditCheckpoint.objects.get(last_event_id=head.pk)
    assert checkpoint.last_hash == head.hash
    from helpdesk.audit import audit_chain_verify

    assert audit_chain_verify().ok
