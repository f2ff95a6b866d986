"""Business-time arithmetic: hypothesis properties plus worked examples (no database needed)."""

import os
import tempfile
import time as wallclock
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tickets.automation.businesstime import Schedule, Slot, add_business, business_seconds, is_open

# Keep Hypothesis's example database and constants cache out of the working tree (an explicit setting wins).
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "carddesk-hypothesis"))

ZONES = ["UTC", "Asia/Shanghai", "Europe/Berlin", "America/New_York"]
# Windows around the 2026 DST switches of New York / Berlin, China's National Day, and a quiet week.
ANCHORS = [datetime(2026, m, d, tzinfo=UTC) for m, d in [(3, 8), (3, 29), (10, 25), (11, 1), (9, 28), (6, 15)]]
WINDOW = 12  # days after the anchor that generated instants and overrides cover
HORIZON = 60  # keeps "unreachable" examples cheap
EPS = 1e-6
US = timedelta(microseconds=1)
NICE_MINUTES = [0, 60, 120, 150, 180, 240, 540, 720, 780, 1080, 1320, 1440]  # DST edges and office hours
SH = "Asia/Shanghai"
PROPS = settings(max_examples=200, deadline=None)


def _time(minute: int) -> time | None:
    return None if minute >= 1440 else time(minute // 60, minute % 60)


# One primitive draw per boundary (cheap to generate): small values pick DST edges / office hours.
MINUTE = st.integers(0, len(NICE_MINUTES) + 1440).map(
    lambda i: NICE_MINUTES[i] if i < len(NICE_MINUTES) else i - len(NICE_MINUTES)
)


def _span(a: int, b: int) -> tuple[time, time | None]:
    lo, hi = min(a, b), max(a, b)
    return (_time(lo), _time(hi)) if lo < hi else (_time(min(lo, 1439)), None)


HOURS = st.builds(_span, MINUTE, MINUTE)
SLOT = st.builds(lambda wd, h: Slot(wd, *h), st.integers(0, 6), HOURS)
DAY_HOURS = st.lists(HOURS, max_size=3).map(tuple)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Schedule, datetime]:
    """A random schedule plus the anchor instant that the other strategies generate around."""
    anchor = draw(st.sampled_from(ANCHORS))
    slots = draw(st.lists(SLOT, max_size=10))
    overrides = draw(st.dictionaries(st.integers(-3, WINDOW + 3), DAY_HOURS, max_size=4))
    overrides = {anchor.date() + timedelta(days=k): hours for k, hours in overrides.items()}
    always = draw(st.integers(0, 9)) == 0
    return Schedule(draw(st.sampled_from(ZONES)), tuple(slots), overrides, always), anchor


def _instants(anchor: datetime) -> st.SearchStrategy[datetime]:
    """Instants around ``anchor``, expressed in a random zone (compare them only via ``_utc``)."""
    return st.builds(
        lambda s, us, z: (anchor + timedelta(seconds=s, microseconds=us)).astimezone(ZoneInfo(z)),
        st.integers(-2 * 86400, WINDOW * 86400),
        st.one_of(st.just(0), st.integers(0, 999_999)),
        st.sampled_from(ZONES),
    )


def _pauses(anchor: datetime) -> st.SearchStrategy[list[tuple[datetime, datetime | None]]]:
    """Unsorted, possibly overlapping, occasionally open-ended or empty (end <= start) pauses."""

    def build(start: datetime, length: int, open_ended: bool) -> tuple[datetime, datetime | None]:
        return start, None if open_ended else start + timedelta(seconds=length)

    one = st.builds(build, _instants(anchor), st.integers(-3600, 3 * 86400), st.integers(0, 9).map(lambda n: n == 0))
    return st.lists(one, max_size=4)


INSTANTS = {anchor: _instants(anchor) for anchor in ANCHORS}
PAUSES = {anchor: _pauses(anchor) for anchor in ANCHORS}
AMOUNTS = st.one_of(st.integers(0, 5 * 86400).map(float), st.floats(0, 5 * 86400, allow_nan=False))


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


def _sorted(data: st.DataObject, anchor: datetime, n: int) -> list[datetime]:
    """n instants in time order (same-zone aware comparisons ignore fold, so sort by UTC)."""
    return sorted(data.draw(st.lists(INSTANTS[anchor], min_size=n, max_size=n)), key=_utc)


def _wall(a: datetime, b: datetime) -> float:
    """Real seconds from a to b (same-zone aware subtraction would be wall-clock arithmetic)."""
    return (_utc(b) - _utc(a)).total_seconds()


def _paused(at: datetime, pause_list: list[tuple[datetime, datetime | None]]) -> bool:
    at = _utc(at)
    return any(_utc(a) <= at and (b is None or at < _utc(b)) for a, b in pause_list)


def _later_or_equal(t1: datetime | None, t0: datetime | None) -> bool:
    """t1 >= t0 where None means "never" (infinitely late)."""
    return t1 is None or (t0 is not None and t1 >= t0)


def _local(zone: str, day: date, at: time = time()) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone))


def _weekdays(zone: str, *spans: tuple[time, time | None], **kwargs: object) -> Schedule:
    return Schedule(zone, tuple(Slot(wd, a, b) for wd in range(5) for a, b in spans), **kwargs)


# --------------------------------------------------------------------------------------------- properties


@PROPS
@given(st.data())
def test_additivity(data: st.DataObject) -> None:
    schedule, anchor = data.draw(scenarios())
    a, b, c = _sorted(data, anchor, 3)
    ps = data.draw(PAUSES[anchor])
    whole = business_seconds(schedule, a, c, ps)
    assert abs(whole - business_seconds(schedule, a, b, ps) - business_seconds(schedule, b, c, ps)) <= EPS
    assert 0 <= whole <= _wall(a, c) + EPS
    assert business_seconds(schedule, c, a, ps) == 0


@PROPS
@given(st.data())
def test_add_business_inverts_business_seconds(data: st.DataObject) -> None:
    schedule, anchor = data.draw(scenarios())
    start, x, ps = data.draw(INSTANTS[anchor]), data.draw(AMOUNTS), data.draw(PAUSES[anchor])
    due = add_business(schedule, start, x, ps, horizon_days=HORIZON)
    if due is None:
        assert business_seconds(schedule, start, _utc(start) + timedelta(days=HORIZON), ps) < x
        return
    assert due >= start
    assert due.utcoffset() == timedelta(0)
    assert abs(business_seconds(schedule, start, due, ps) - x) <= EPS
    if x > 1:
        assert business_seconds(schedule, start, due - timedelta(seconds=1), ps) < x
    if due > start:  # earliest: the clock was running right up to the due instant
        assert business_seconds(schedule, start, due - US, ps) < x
        assert is_open(schedule, due - US)
        assert not _paused(due - US, ps)


@PROPS
@given(st.data())
def test_add_business_is_monotonic(data: st.DataObject) -> None:
    schedule, anchor = data.draw(scenarios())
    start, ps = data.draw(INSTANTS[anchor]), data.draw(PAUSES[anchor])
    x0, x1 = sorted([data.draw(AMOUNTS), data.draw(AMOUNTS)])
    t0 = add_business(schedule, start, x0, ps, horizon_days=HORIZON)
    t1 = add_business(schedule, start, x1, ps, horizon_days=HORIZON)
    assert _later_or_equal(t1, t0)
    assert add_business(schedule, start, 0, ps) == _utc(start)  # equality across zones: PEP 495 fold rules
    assert add_business(schedule, start, -5.0, ps) == _utc(start)  # equality across zones: PEP 495 fold rules


@PROPS
@given(st.data())
def test_open_intervals_are_sorted_disjoint_and_match_is_open(data: st.DataObject) -> None:
    schedule, anchor = data.draw(scenarios())
    a, b = _sorted(data, anchor, 2)
    spans = list(schedule.open_intervals(a, b))
    for (_, e0), (s1, _) in pairwise(spans):
        assert e0 < s1
    for s, e in spans:
        assert _utc(a) <= s < e <= _utc(b)
        assert s.tzinfo is UTC
        assert is_open(schedule, s)
        assert is_open(schedule, e - US)
        if e < b:
            assert not is_open(schedule, e)
    total = sum((e - s).total_seconds() for s, e in spans)
    assert abs(total - business_seconds(schedule, a, b)) <= EPS


@PROPS
@given(st.data())
def test_always_open_counts_wall_clock_minus_pauses(data: st.DataObject) -> None:
    schedule, anchor = data.draw(scenarios())
    schedule = replace(schedule, always_open=True)
    a, b = _sorted(data, anchor, 2)
    assert business_seconds(schedule, a, b) == _wall(a, b)
    assert add_business(schedule, a, _wall(a, b)) == _utc(b)
    ps = data.draw(PAUSES[anchor])
    inner = (_utc(p) for pause in ps for p in pause if p is not None and _utc(a) < _utc(p) < _utc(b))
    cuts = sorted({_utc(a), _utc(b), *inner})
    paused = sum((hi - lo).total_seconds() for lo, hi in pairwise(cuts) if _paused(lo, ps))
    assert abs(business_seconds(schedule, a, b, ps) - (_wall(a, b) - paused)) <= EPS


@PROPS
@given(st.data())
def test_holiday_contributes_nothing(data: st.DataObject) -> None:
    schedule, anchor = data.draw(scenarios())
    day = anchor.date() + timedelta(days=data.draw(st.integers(0, WINDOW)))
    schedule = replace(schedule, overrides={**schedule.overrides, day: ()}, always_open=False)
    zone = schedule.time_zone
    assert business_seconds(schedule, _local(zone, day), _local(zone, day + timedelta(days=1))) == 0
    assert not is_open(schedule, _local(zone, day, time(data.draw(st.integers(0, 23)), 30)))


@PROPS
@given(st.data())
def test_make_up_day_contributes_its_hours(data: st.DataObject) -> None:
    schedule, _ = data.draw(scenarios())
    day = date(2026, 6, 15) + timedelta(days=data.draw(st.integers(0, 13)))  # no DST switch in these weeks
    edges = sorted(data.draw(st.sets(st.integers(0, 1440), min_size=2, max_size=6)))
    edges = edges[: len(edges) // 2 * 2]
    spans = [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]
    made_up = tuple((_time(lo), _time(hi)) for lo, hi in spans)
    schedule = replace(schedule, overrides={**schedule.overrides, day: made_up}, always_open=False)
    zone = schedule.time_zone
    expected = sum(hi - lo for lo, hi in spans) * 60
    assert business_seconds(schedule, _local(zone, day), _local(zone, day + timedelta(days=1))) == expected


@PROPS
@given(st.data())
def test_extra_pause_never_makes_due_earlier(data: st.DataObject) -> None:
    schedule, anchor = data.draw(scenarios())
    start, x, ps = data.draw(INSTANTS[anchor]), data.draw(AMOUNTS), data.draw(PAUSES[anchor])
    extra = data.draw(PAUSES[anchor])
    before = add_business(schedule, start, x, ps, horizon_days=HORIZON)
    after = add_business(schedule, start, x, ps + extra, horizon_days=HORIZON)
    assert _later_or_equal(after, before)


@PROPS
@given(st.data())
def test_pause_in_closed_time_changes_nothing(data: st.DataObject) -> None:
    schedule, anchor = data.draw(scenarios())
    lo, hi = anchor - timedelta(days=3), anchor + timedelta(days=WINDOW + 3)
    spans = list(schedule.open_intervals(lo, hi))
    edges = [lo, *(t for span in spans for t in span), hi]
    gaps = [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2) if edges[i] < edges[i + 1]]
    assume(gaps)
    gap_start, gap_end = data.draw(st.sampled_from(gaps))
    closed = [(gap_start, gap_end)]
    start, end, x = data.draw(INSTANTS[anchor]), data.draw(INSTANTS[anchor]), data.draw(AMOUNTS)
    assert business_seconds(schedule, start, end, closed) == business_seconds(schedule, start, end)
    assert add_business(schedule, start, x, closed, horizon_days=HORIZON) == add_business(
        schedule, start, x, horizon_days=HORIZON
    )


@PROPS
@given(st.data())
def test_reopen_is_a_pause_from_solved_to_reopened(data: st.DataObject) -> None:
    schedule, anchor = data.draw(scenarios())
    created, solved, reopened, now = _sorted(data, anchor, 4)
    pause = [(solved, reopened)]
    worked = business_seconds(schedule, created, solved) + business_seconds(schedule, reopened, now)
    assert abs(business_seconds(schedule, created, now, pause) - worked) <= EPS
    x = data.draw(AMOUNTS)
    plain = add_business(schedule, created, x, horizon_days=HORIZON)
    assert _later_or_equal(add_business(schedule, created, x, pause, horizon_days=HORIZON), plain)


# ----------------------------------------------------------------------------------------------- examples


def test_shanghai_friday_evening_ticket_is_due_monday_morning() -> None:
    schedule = _weekdays(SH, (time(9), time(12)), (time(13), time(18)))
    friday = datetime(2026, 3, 6, 17, 30, tzinfo=ZoneInfo(SH))
    assert add_business(schedule, friday, 3600) == datetime(2026, 3, 9, 9, 30, tzinfo=ZoneInfo(SH))
    # the lunch break does not count
    monday = datetime(2026, 3, 9, 11, 30, tzinfo=ZoneInfo(SH))
    assert add_business(schedule, monday, 3600) == datetime(2026, 3, 9, 13, 30, tzinfo=ZoneInfo(SH))
    assert business_seconds(schedule, monday, monday + timedelta(days=7)) == 8 * 3600 * 5
    assert not is_open(schedule, monday + timedelta(hours=1))


def test_midnight_spanning_slots() -> None:
    schedule = Schedule("Europe/Berlin", (Slot(0, time(22), None), Slot(1, time(0), time(2))))
    tz = ZoneInfo("Europe/Berlin")
    monday = datetime(2026, 6, 15, 23, 30, tzinfo=tz)
    assert add_business(schedule, monday, 3600) == datetime(2026, 6, 16, 0, 30, tzinfo=tz)
    week = list(schedule.open_intervals(monday - timedelta(days=1), monday + timedelta(days=6)))
    assert week == [(datetime(2026, 6, 15, 20, tzinfo=UTC), datetime(2026, 6, 16, 0, tzinfo=UTC))]
    assert is_open(schedule, datetime(2026, 6, 16, 0, tzinfo=tz))
    assert not is_open(schedule, datetime(2026, 6, 16, 2, tzinfo=tz))
    # ending exactly at the end of the open span: that instant, not the next opening
    assert add_business(schedule, monday, 9000) == datetime(2026, 6, 16, 2, tzinfo=tz)


@pytest.mark.parametrize(
    ("zone", "day", "seconds"),
    [
        ("Europe/Berlin", date(2026, 3, 29), 2 * 3600),  # spring forward: 02:00 -> 03:00
        ("Europe/Berlin", date(2026, 10, 25), 4 * 3600),  # fall back: 03:00 -> 02:00
        ("America/New_York", date(2026, 3, 8), 2 * 3600),
        ("America/New_York", date(2026, 11, 1), 4 * 3600),
        ("Asia/Shanghai", date(2026, 3, 29), 3 * 3600),
        ("Europe/Berlin", date(2026, 3, 22), 3 * 3600),
    ],
)
def test_dst_days_measure_real_time(zone: str, day: date, seconds: int) -> None:
    schedule = Schedule(zone, (Slot(6, time(1), time(4)),))
    assert business_seconds(schedule, _local(zone, day), _local(zone, day + timedelta(days=1))) == seconds
    assert add_business(schedule, _local(zone, day), seconds) == _local(zone, day, time(4))


def test_new_york_office_hours_across_spring_forward() -> None:
    zone = "America/New_York"
    schedule = _weekdays(zone, (time(9), time(17)))
    friday = _local(zone, date(2026, 3, 6), time(16))
    assert add_business(schedule, friday, 2 * 3600) == _local(zone, date(2026, 3, 9), time(10))
    assert add_business(schedule, friday, 2 * 3600) == datetime(2026, 3, 9, 14, tzinfo=UTC)  # EDT now
    assert business_seconds(schedule, friday, _local(zone, date(2026, 3, 9), time(10))) == 7200


def test_national_day_holiday_and_make_up_saturday() -> None:
    closed = {date(2026, 10, 1) + timedelta(days=k): () for k in range(8)}
    overrides = {**closed, date(2026, 9, 26): ((time(9), time(18)),)}
    schedule = _weekdays(SH, (time(9), time(18)), overrides=overrides)
    tz = ZoneInfo(SH)
    saturday = datetime(2026, 9, 26, 10, tzinfo=tz)
    assert is_open(schedule, saturday)
    assert add_business(schedule, saturday, 7200) == datetime(2026, 9, 26, 12, tzinfo=tz)
    eve = datetime(2026, 9, 30, 17, tzinfo=tz)
    assert add_business(schedule, eve, 7200) == datetime(2026, 10, 9, 10, tzinfo=tz)
    assert business_seconds(schedule, eve, datetime(2026, 10, 9, 9, tzinfo=tz)) == 3600
    assert not is_open(schedule, datetime(2026, 10, 5, 10, tzinfo=tz))
    assert not is_open(schedule, datetime(2026, 9, 27, 10, tzinfo=tz))  # an ordinary Sunday stays closed


def test_shortened_day_override() -> None:
    day = date(2026, 6, 19)
    schedule = _weekdays(SH, (time(9), time(18)), overrides={day: ((time(9), time(12)),)})
    assert business_seconds(schedule, _local(SH, day), _local(SH, day + timedelta(days=1))) == 3 * 3600


def test_open_ended_pause_makes_target_unreachable() -> None:
    schedule = _weekdays(SH, (time(9), time(18)))
    start = datetime(2026, 6, 15, 9, tzinfo=ZoneInfo(SH))
    waiting = [(start + timedelta(hours=1), None)]
    assert add_business(schedule, start, 2 * 3600, waiting) is None
    assert add_business(schedule, start, 1800, waiting) == start + timedelta(minutes=30)
    assert business_seconds(schedule, start, start + timedelta(days=30), waiting) == 3600
    assert add_business(replace(schedule, always_open=True), start, 7200, waiting) is None


def test_unsorted_overlapping_pauses_are_merged() -> None:
    schedule = Schedule("UTC", always_open=True)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    hour = timedelta(hours=1)
    ps = [(t0 + 5 * hour, t0 + 6 * hour), (t0 + hour, t0 + 3 * hour), (t0 + 2 * hour, t0 + 4 * hour)]
    assert business_seconds(schedule, t0, t0 + 10 * hour, ps) == 6 * 3600
    assert add_business(schedule, t0, 2 * 3600, ps) == t0 + 5 * hour
    assert add_business(schedule, t0, 2 * 3600, [(t0, t0 - hour)]) == t0 + 2 * hour  # empty pause ignored


def test_no_open_hours_at_all() -> None:
    start = datetime(2026, 6, 15, tzinfo=UTC)
    assert add_business(Schedule(SH), start, 1) is None
    assert add_business(Schedule(SH, overrides={date(2026, 1, 1): ()}), start, 1) is None
    assert add_business(Schedule(SH), start, 0) == start
    assert business_seconds(Schedule(SH), start, start + timedelta(days=400)) == 0
    past = Schedule(SH, overrides={date(2026, 6, 1): ((time(9), time(10)),)})
    assert add_business(past, start, 1) is None
    assert add_business(past, datetime(2026, 5, 1, tzinfo=UTC), 3600) == datetime(2026, 6, 1, 2, tzinfo=UTC)


def test_overlapping_slots_merge() -> None:
    schedule = Schedule("UTC", (Slot(0, time(9), time(12)), Slot(0, time(11), time(14)), Slot(0, time(14), None)))
    monday = datetime(2026, 6, 15, tzinfo=UTC)
    assert list(schedule.open_intervals(monday, monday + timedelta(days=1))) == [
        (monday + timedelta(hours=9), monday + timedelta(days=1))
    ]


def test_invalid_input_is_rejected() -> None:
    schedule = Schedule("UTC", always_open=True)
    naive = datetime(2026, 6, 15)
    aware = naive.replace(tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        business_seconds(schedule, naive, aware)
    with pytest.raises(ValueError, match="aware"):
        add_business(schedule, naive, 10)
    with pytest.raises(ValueError, match="aware"):
        add_business(schedule, aware, 10, [(aware, naive)])
    with pytest.raises(ValueError, match="aware"):
        is_open(schedule, naive)
    with pytest.raises(ValueError, match="aware"):
        schedule.open_intervals(aware, naive)
    with pytest.raises(ValueError, match="finite"):
        add_business(schedule, aware, float("nan"))
    with pytest.raises(ValueError):
        Slot(7, time(9), time(10))
    with pytest.raises(ValueError):
        Slot(0, time(10), time(9))
    with pytest.raises(ValueError):
        Schedule("UTC", overrides={date(2026, 1, 1): ((time(10), time(10)),)})
    with pytest.raises(KeyError):  # ZoneInfoNotFoundError
        Schedule("Mars/Olympus_Mons")


def test_performance() -> None:
    schedule = _weekdays(SH, (time(9), time(12)), (time(13), time(18)))
    start = datetime(2026, 6, 15, 10, tzinfo=UTC)
    began = wallclock.perf_counter()
    for _ in range(200):
        assert add_business(schedule, start, 22 * 8 * 3600) is not None  # ~30 calendar days
    assert (wallclock.perf_counter() - began) / 200 < 0.005
    always = Schedule("UTC", always_open=True)
    began = wallclock.perf_counter()
    for _ in range(1000):
        add_business(always, start, 9 * 365 * 86400)
    assert (wallclock.perf_counter() - began) / 1000 < 0.0005
