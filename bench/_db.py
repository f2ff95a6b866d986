"""What the benchmarks share about their dedicated database: the URL, its refusals, and raw connections."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit


def database_config(url: str) -> dict:
    import environ

    return environ.Env.db_url_config(url)


def dedicated_database_url(default_name: str, refused_names: set[str], why: str) -> str:
    """DATABASE_URL with the default database name filled in; refuses names that belong to real installs."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit(
            "Set DATABASE_URL to the PostgreSQL server and a dedicated database, e.g.\n"
            f"  DATABASE_URL=postgres://postgres@127.0.0.1:5432/{default_name}\n"
            f"(the bench refuses the development database: {why})."
        )
    parts = urlsplit(url)
    if parts.path in ("", "/"):
        url = urlunsplit(parts._replace(path=f"/{default_name}"))
    name = database_config(url)["NAME"]
    if name in refused_names or name.startswith("test_"):
        raise SystemExit(f"Refusing to run against database {name!r}: use a dedicated one such as {default_name}.")
    os.environ["DATABASE_URL"] = url
    return url


def connect(url: str, dbname: str):
    """An autocommit psycopg connection to `dbname` on the server of `url` (TCP or unix socket)."""
    import psycopg

    cfg = database_config(url)
    kwargs = {
        "dbname": dbname,
        "user": cfg.get("USER") or None,
        "password": cfg.get("PASSWORD") or None,
        "host": cfg.get("HOST") or cfg.get("OPTIONS", {}).get("host") or None,
        "port": cfg.get("PORT") or None,
    }
    return psycopg.connect(**{k: v for k, v in kwargs.items() if v}, autocommit=True)
