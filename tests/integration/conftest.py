import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    """A URL for the database pytest-django created, for servers we start as subprocesses."""
    s = connection.settings_dict
    user = quote(s.get("USER") or "postgres")
    password = f":{quote(s['PASSWORD'])}" if s.get("PASSWORD") else ""
    socket_dir = (s.get("OPTIONS") or {}).get("host")
    if not s.get("HOST") and socket_dir:
        return f"postgres://{user}{password}@/{s['NAME']}?host={quote(socket_dir)}"
    return f"postgres://{user}{password}@{s['HOST']}:{s.get('PORT') or 5432}/{s['NAME']}"


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": test_database_url(), "DJANGO_SETTINGS_MODULE": "helpdesk.settings.test"}
    env.update(extra)
    return env


@pytest.fixture
def celery_worker_queue(transactional_db):
    """A real Celery worker process consuming a private queue on the real Redis broker."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "-Q", queue, "--concurrency", "1",
         "--pool", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"],
        cwd=ROOT,
        env=subprocess_env(CELERY_TASK_ALWAYS_EAGER="0"),
    )  # fmt: skip
    time.sleep(0.5)
    try:
        yield queue
    finally:
        worker.terminate()
        worker.wait(timeout=20)
