import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.chat_support import online_agent, widget  # noqa: F401  (fixtures)

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


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AsgiServer:
    def __init__(self, process: subprocess.Popen, port: int):
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"


def start_asgi_server(**extra_env: str) -> AsgiServer:
    """A real uvicorn process serving the app (HTTP + websockets) on the test database."""
    import urllib.request

    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "helpdesk.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--lifespan", "off", "--log-level", "warning"],
        cwd=ROOT,
        env=subprocess_env(**extra_env),
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    return AsgiServer(process, port)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("uvicorn did not become healthy")


@pytest.fixture
def asgi_server(transactional_db):
    server = start_asgi_server()
    try:
        yield server
    finally:
        server.process.terminate()
        server.process.wait(timeout=20)


def session_cookie_for(user) -> str:
    """Log a user in without the login form: a real session row the ASGI server will accept."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value
