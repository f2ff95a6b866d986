from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone


class Clock:
    """Time travel: every timezone.now() (services, auto_now fields) reads this clock."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))  # Tuesday 10:00 in Shanghai
    monkeypatch.setattr(timezone, "now", c)
    return c
