"""Settings from the environment, production refusals, and the embedded servers used when no URL is set."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "helpdesk.settings.production",
    "SECRET_KEY": "x7!kq2-production-secret-key-with-plenty-of-entropy-9f3b1c0d",
    "DATABASE_URL": "postgres://carddesk@db.internal:5432/carddesk",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "FIELD_ENCRYPTION_KEYS": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    "ALLOWED_HOSTS": "desk.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://desk.example.com",
    "PUBLIC_BASE_URL": "https://desk.example.com",
}


def run_manage(*args: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env={**base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_production_check_deploy_passes_without_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "FIELD_ENCRYPTION_KEYS"])
def test_production_refuses_to_start_without_a_secret(missing):
    env = {**PRODUCTION_ENV, missing: ""}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and missing in result.stderr


def test_production_refuses_a_weak_secret_key():
    result = run_manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": "short"})
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_production_refuses_demo_data():
    from django.conf import settings

    assert settings.DEMO_DATA_ALLOWED  # tests may seed
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.DEMO_DATA_ALLOWED)",
        env=PRODUCTION_ENV,
    )
    assert result.stdout.strip() == "False", result.stderr


def test_settings_come_from_the_environment():
    code = (
        "from django.conf import settings as s;"
        "print(s.TIME_ZONE, s.LANGUAGE_CODE, s.DATABASES['default']['HOST'], s.CELERY_BROKER_URL,"
        " s.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0]['max_connections'], s.EMAIL_BACKEND)"
    )
    env = {**PRODUCTION_ENV, "TIME_ZONE": "UTC", "LANGUAGE_CODE": "en", "EMAIL_URL": "smtp://mail.internal:25"}
    result = run_manage("shell", "--no-imports", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "UTC",
        "en",
        "db.internal",
        "redis://cache.internal:6379/0",
        "200",
        "django.core.mail.backends.smtp.EmailBackend",
    ]


def test_sqlite_is_refused():
    result = run_manage("check", env={**PRODUCTION_ENV, "DATABASE_URL": "sqlite:///db.sqlite3"})
    assert result.returncode != 0 and "PostgreSQL" in result.stderr


@pytest.mark.integration
def test_embedded_servers_start_migrate_are_reused_and_stop(tmp_path):
    """With no DATABASE_URL / REDIS_URL, real PostgreSQL and Redis start under var/, data survives a restart."""
    var = tmp_path / "var"
    env = {"DJANGO_SETTINGS_MODULE": "helpdesk.settings.local", "CARDDESK_VAR_DIR": str(var), "DEBUG": "0"}
    migrate = run_manage("migrate", "--noinput", "-v", "0", env=env, timeout=240)
    assert migrate.returncode == 0, migrate.stderr
    assert (var / "pg" / "PG_VERSION").exists()

    probe = (
        "from django.db import connection; from django.core.cache import cache;"
        "from django.db.migrations.recorder import MigrationRecorder as R;"
        "cache.set('k', 'v'); print(connection.vendor, connection.settings_dict['HOST'] or 'socket',"
        " R.Migration.objects.filter(app='tickets').count() > 0, cache.get('k'))"
    )
    second = run_manage("shell", "--no-imports", "-c", probe, env=env, timeout=120)
    assert second.returncode == 0, second.stderr
    assert second.stdout.split() == ["postgresql", "socket", "True", "v"]

    # Both processes have exited: the last holder stopped the servers.
    assert not (var / "pg" / "postmaster.pid").exists()
    assert not (var / "redis" / "redis.pid").exists()
    assert (var / "redis" / "dump.rdb").exists()  # Redis saved its data on the way out
