"""The test command also checks what reviewers would: lint, formatting and committed migrations."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[1]


def _ruff() -> str:
    candidate = Path(sys.executable).parent / "ruff"
    return str(candidate) if candidate.exists() else (shutil.which("ruff") or "ruff")


def test_ruff_lint_is_clean():
    result = subprocess.run([_ruff(), "check", "."], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = subprocess.run([_ruff(), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_audit_verify_command_reports_an_intact_chain(ticket, capsys):
    call_command("audit_verify")
    assert "Audit chain intact" in capsys.readouterr().out
