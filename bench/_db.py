"""What the benchmarks share about their dedicated database: the URL, its refusals, and raw connections."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


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


_FOREIGN_ROWS = (
    "SELECT EXISTS (SELECT 1 FROM tickets_ticket t JOIN helpdesk_shop s ON s.id = t.shop_id WHERE s.slug NOT LIKE %s) "
    "OR EXISTS (SELECT 1 FROM auth_user WHERE username NOT LIKE %s)"
)


def prepare_marked_database(*, default_name: str, refused_names: set[str], marker: str, prefix: str) -> str:
    """The dedicated database, marked by a comment naming the migrations it was built from; dropped and made
    again when they change (the project edits its initial migrations in place) — the bench reseeds anyway.
    Refused if it holds tickets or users the bench did not write, or is someone else's and not empty."""
    from psycopg import sql

    url = dedicated_database_url(default_name, refused_names, "it truncates what it seeds")
    name = database_config(url)["NAME"]
    migrations = b"".join(path.read_bytes() for path in sorted(ROOT.glob("*/migrations/0*.py")))
    wanted = f"{marker} migrations={hashlib.sha256(migrations).hexdigest()[:12]}"
    query = "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s"
    with connect(url, "postgres") as conn:
        row = conn.execute(query, [name]).fetchone()
    if row is not None:
        found = row[0] or ""
        with connect(url, name) as conn:
            if conn.execute("SELECT to_regclass('tickets_ticket') IS NOT NULL").fetchone()[0]:
                foreign = conn.execute(_FOREIGN_ROWS, [prefix + "%"] * 2).fetchone()[0]
                if foreign:
                    raise SystemExit(f"Refusing: database {name!r} holds tickets or users the bench did not create.")
                empty = not conn.execute("SELECT EXISTS (SELECT 1 FROM tickets_ticket)").fetchone()[0]
                if not found.startswith(marker) and not empty:
                    raise SystemExit(f"Refusing: database {name!r} was not created by the bench and is not empty.")
        if found.startswith(marker) and found != wanted:
            with connect(url, "postgres") as conn:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            print(f"dropped database {name}: the migrations changed")
            row = None
    with connect(url, "postgres") as conn:
        if row is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(wanted)))
    return url
