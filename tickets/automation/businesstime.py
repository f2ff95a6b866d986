"""Business-time arithmetic for SLA clocks (pure Python, no Django).

A :class:`Schedule` describes when the clock runs: weekly opening :class:`Slot` s in the calendar's local
wall time, per-date ``overrides`` (public holidays, 调休 make-up working days, shortened days) or ``always_open``
for 24x7 queues. :func:`business_seconds` measures how much of a real time span falls inside open hours and
outside every :data:`Pause`; :func:`add_business` is its inverse and finds an SLA due time.

Conventions shared by every function here:

* Every datetime passed in must be aware (naive ones raise :class:`ValueError`); results are aware UTC.
* Local wall times become instants through :mod:`zoneinfo` with ``fold=0``: an ambiguous time (fall-back)
  means its first occurrence, a non-existent time (spring-forward gap) is read with the pre-transition offset.
  Durations are real elapsed time, so a 01:00-04:00 slot in Europe/Berlin lasts 2 h on the spring-forward
  day and 4 h on the fall-back day.
* Intervals are half-open ``[start, end)``. Arithmetic is exact at datetime's microsecond resolution.
"""

import math
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from types import MappingProxyType
from zoneinfo import ZoneInfo

__all__ = ["Pause", "Schedule", "Slot", "add_business", "business_seconds", "is_open"]

Pause = tuple[datetime, datetime | None]
"""An interval during which the clock stops; an end of ``None`` means still paused (open-ended)."""

Hours = tuple[tuple[time, time | None], ...]
_Span = tuple[datetime, datetime]
_DAY = timedelta(days=1)
_ZERO = timedelta(0)
_FOREVER = datetime.max.replace(tzinfo=UTC)


def _aware(value: datetime, name: str) -> datetime:
    """Return ``value`` converted to UTC; raise ValueError when it is not an aware datetime."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}")
    return value.astimezone(UTC)


def _check_hours(start: time, end: time | None) -> None:
    """Raise ValueError unless ``start``/``end`` are naive times with ``end`` None or later than ``start``."""
    if not isinstance(start, time) or start.tzinfo is not None:
        raise ValueError(f"start must be a naive time, got {start!r}")
    if end is not None and (not isinstance(end, time) or end.tzinfo is not None or end <= start):
        raise ValueError(f"end must be None (midnight) or a naive time after {start}, got {end!r}")


def _offset(value: time | None) -> timedelta:
    """Offset of a wall time from local midnight; ``None`` means the next midnight (24 h)."""
    if value is None:
        return _DAY
    return timedelta(hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond)


def _merge_hours(hours: Iterable[tuple[time, time | None]]) -> tuple[tuple[timedelta, timedelta], ...]:
    """Validate opening hours and merge overlapping or touching ones into sorted midnight offsets."""
    offsets = []
    for start, end in hours:
        _check_hours(start, end)
        offsets.append((_offset(start), _offset(end)))
    spans: list[tuple[timedelta, timedelta]] = []
    for lo, hi in sorted(offsets):
        if spans and lo <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], hi))
        else:
            spans.append((lo, hi))
    return tuple(spans)


@dataclass(frozen=True)
class Slot:
    """One weekly opening slot in the calendar's local wall time.

    ``weekday`` is 0 (Monday) .. 6 (Sunday); ``end`` is ``None`` for "until the next local midnight",
    otherwise it must be later than ``start``. Slots never span midnight: use two slots for that.
    """

    weekday: int
    start: time
    end: time | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.weekday, int) or not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), got {self.weekday!r}")
        _check_hours(self.start, self.end)


@dataclass(frozen=True)
class Schedule:
    """When an SLA clock runs.

    ``slots`` repeat every week (several per day allowed; overlapping or touching slots merge).
    ``overrides`` replace the weekly slots on one local date: ``()`` closes the whole day (public holiday),
    non-empty hours are used instead (make-up working day 调休, shortened day). ``always_open`` makes every
    instant count and ignores slots and overrides. Construction validates everything and raises ValueError
    (or ``zoneinfo.ZoneInfoNotFoundError`` for an unknown ``time_zone``); ``overrides`` is copied into a
    read-only mapping, so later changes to the dict passed in have no effect.
    """

    time_zone: str
    slots: tuple[Slot, ...] = ()
    overrides: Mapping[date, Hours] = field(default_factory=dict, hash=False)
    always_open: bool = False

    def __post_init__(self) -> None:
        ZoneInfo(self.time_zone)
        object.__setattr__(self, "slots", tuple(self.slots))
        object.__setattr__(self, "overrides", MappingProxyType({k: tuple(v) for k, v in self.overrides.items()}))
        for slot in self.slots:
            if not isinstance(slot, Slot):
                raise ValueError(f"slots must hold Slot instances, got {slot!r}")
        for day in self.overrides:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"override keys must be dates, got {day!r}")
        _ = self._weekly, self._special

    @cached_property
    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @cached_property
    def _weekly(self) -> tuple[tuple[tuple[timedelta, timedelta], ...], ...]:
        return tuple(_merge_hours((s.start, s.end) for s in self.slots if s.weekday == wd) for wd in range(7))

    @cached_property
    def _special(self) -> dict[date, tuple[tuple[timedelta, timedelta], ...]]:
        return {day: _merge_hours(hours) for day, hours in self.overrides.items()}

    @cached_property
    def _open_until(self) -> datetime | None:
        """UTC instant after which nothing is ever open again; ``_FOREVER`` if weekly slots exist."""
        if self.always_open or any(self._weekly):
            return _FOREVER
        days = [day for day, hours in self._special.items() if hours]
        if not days:
            return None
        return datetime.combine(max(days) + 2 * _DAY, time(), tzinfo=self._zone).astimezone(UTC)

    def _day_spans(self, day: date) -> list[_Span]:
        """Open spans of one local date as UTC instants, sorted (DST gaps can reorder wall times)."""
        hours = self._special.get(day, self._weekly[day.weekday()])
        if not hours:
            return []
        midnight = datetime.combine(day, time(), tzinfo=self._zone)
        spans = [((midnight + lo).astimezone(UTC), (midnight + hi).astimezone(UTC)) for lo, hi in hours]
        return sorted((a, b) for a, b in spans if a < b)

    def open_intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open spans within ``[start, end)`` as aware UTC pairs: disjoint, sorted, clipped, touching ones merged.

        Walks day by day, so the cost is proportional to the number of local dates covered
        (constant for ``always_open``). Raises ValueError for naive datetimes (immediately, not lazily).
        """
        start, end = _aware(start, "start"), _aware(end, "end")
        return self._iter_open(start, end)

    def _iter_open(self, start: datetime, end: datetime) -> Iterator[_Span]:
        if end <= start:
            return
        if self.always_open:
            yield start, end
            return
        day, last = start.astimezone(self._zone).date() - _DAY, end.astimezone(self._zone).date()
        current: _Span | None = None
        while day <= last:
            for a, b in self._day_spans(day):
                a, b = max(a, start), min(b, end)
                if a >= b:
                    continue
                if current is None:
                    current = (a, b)
                elif a <= current[1]:
                    current = (current[0], max(current[1], b))
                else:
                    yield current
                    current = (a, b)
            day += _DAY
        if current is not None:
            yield current


def _merge_pauses(pauses: Sequence[Pause]) -> list[_Span]:
    """Validate pauses and return their union as sorted disjoint UTC spans (open ends become ``_FOREVER``).

    Pauses whose end is not after their start are empty and ignored.
    """
    spans: list[_Span] = []
    for pause_start, pause_end in pauses:
        a = _aware(pause_start, "pause start")
        b = _FOREVER if pause_end is None else _aware(pause_end, "pause end")
        if a < b:
            spans.append((a, b))
    spans.sort()
    merged: list[_Span] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _subtract(spans: Iterable[_Span], pauses: list[_Span]) -> Iterator[_Span]:
    """Yield the parts of sorted disjoint ``spans`` not covered by merged ``pauses``."""
    ends = [b for _, b in pauses]
    for a, b in spans:
        i = bisect_right(ends, a)
        while i < len(pauses) and pauses[i][0] < b:
            if pauses[i][0] > a:
                yield a, pauses[i][0]
            a = pauses[i][1]
            if a >= b:
                break
            i += 1
        if a < b:
            yield a, b


def business_seconds(schedule: Schedule, start: datetime, end: datetime, pauses: Sequence[Pause] = ()) -> float:
    """Real seconds of ``[start, end)`` that are inside open hours and outside every pause.

    Returns 0.0 when ``end <= start``. Pauses may be unsorted and overlap; an open-ended pause covers
    everything after its start. Additive: ``bs(a, c) == bs(a, b) + bs(b, c)`` for ``a <= b <= c``.
    """
    start, end = _aware(start, "start"), _aware(end, "end")
    merged = _merge_pauses(pauses)
    total = _ZERO
    for a, b in _subtract(schedule.open_intervals(start, end), merged):
        total += b - a
    return total.total_seconds()


def add_business(
    schedule: Schedule,
    start: datetime,
    seconds: float,
    pauses: Sequence[Pause] = (),
    *,
    horizon_days: int = 3660,
) -> datetime | None:
    """The earliest instant ``t >= start`` with ``business_seconds(schedule, start, t, pauses) >= seconds``.

    ``seconds`` is rounded to whole microseconds; when that is ``<= 0`` the answer is ``start`` (in UTC).
    The answer always lies at or before the end of an open, unpaused span. Returns ``None`` when the target
    cannot be reached within ``horizon_days`` real days of ``start`` - no open hours at all, too few of them,
    or an open-ended pause swallowing the rest. Raises ValueError for naive datetimes or non-finite seconds.
    """
    start = _aware(start, "start")
    if not math.isfinite(seconds):
        raise ValueError(f"seconds must be finite, got {seconds!r}")
    merged = _merge_pauses(pauses)
    target = timedelta(seconds=seconds)
    if target <= _ZERO:
        return start
    open_until = schedule._open_until
    if open_until is None:
        return None
    limit = min(start + timedelta(days=horizon_days), open_until)
    if merged and merged[-1][1] == _FOREVER:
        limit = min(limit, max(start, merged[-1][0]))
    if schedule.always_open and not merged:
        return start + target if start + target <= limit else None
    remaining = target
    for a, b in _subtract(schedule.open_intervals(start, limit), merged):
        if b - a >= remaining:
            return a + remaining
        remaining -= b - a
    return None


def is_open(schedule: Schedule, at: datetime) -> bool:
    """Whether the instant ``at`` lies inside the schedule's open hours (pauses are not considered)."""
    at = _aware(at, "at")
    return next(schedule.open_intervals(at, at + timedelta(microseconds=1)), None) is not None
