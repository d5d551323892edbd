"""Properties of the calendar arithmetic, for random business-hours calendars, start moments and durations.

Calendars are built the way contracts store them (`calendar_from_config` over a configuration that
`validate_calendar_config` accepts): timezones with and without DST on both hemispheres, random weekly spans given in
any order, random holidays. Start moments are anywhere in 2025-2028, half of them within three days of a DST
transition. The oracles below do not share the calendar's iteration: they map each local span to UTC on its own.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla.calendars import WEEKDAYS, Calendar, calendar_from_config, validate_calendar_config

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC")
GRID_MINUTES = 15
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
YEARS = 4
TOLERANCE = 1e-6  # one microsecond: timedelta's resolution


@cache
def dst_transitions(zone: str) -> tuple[datetime, ...]:
    """The UTC instants in 2025-2028 at which the zone's offset changes (these zones change on whole UTC hours)."""
    tz = ZoneInfo(zone)
    found = []
    moment, offset = EPOCH, EPOCH.astimezone(tz).utcoffset()
    while moment < EPOCH + timedelta(days=366 * YEARS):
        moment += timedelta(hours=1)
        if (current := moment.astimezone(tz).utcoffset()) != offset:
            found.append(moment)
            offset = current
    return tuple(found)


def clock_time(quarter: int) -> str:
    minutes = quarter * GRID_MINUTES
    return "24:00" if minutes == 24 * 60 else f"{minutes // 60:02d}:{minutes % 60:02d}"


QUARTERS_A_DAY = 24 * 60 // GRID_MINUTES


@st.composite
def day_spans(draw: st.DrawFn, *, small_hours: bool) -> list[list[str]]:
    """One to three non-overlapping spans on the grid, listed in any order (the configuration does not require them
    sorted). With `small_hours`, short spans from 01:00-04:00, where Berlin, New York and Sydney skip an hour in
    spring and repeat one in autumn."""
    first = draw(st.integers(4, 16) if small_hours else st.integers(0, QUARTERS_A_DAY - 1))
    steps = draw(st.lists(st.integers(1, 4 if small_hours else 32), min_size=1, max_size=5))
    points = [first]
    for step in steps:
        points.append(min(points[-1] + step, QUARTERS_A_DAY))
    points = sorted(set(points))[: len(set(points)) // 2 * 2]
    spans = [[clock_time(opens), clock_time(closes)] for opens, closes in zip(points[::2], points[1::2], strict=True)]
    return draw(st.permutations(spans))


@st.composite
def weekly_spans(draw: st.DrawFn, *, small_hours_on: str | None = None) -> dict[str, list[list[str]]]:
    """One to seven open days (always `small_hours_on`, with spans mostly in the small hours)."""
    days = set(draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True)))
    return {
        day: draw(day_spans(small_hours=day == small_hours_on and draw(st.integers(0, 3)) > 0))
        for day in sorted(days | ({small_hours_on} if small_hours_on else set()), key=WEEKDAYS.index)
    }


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[str, Any], datetime]:
    """A business-hours configuration and a start moment: half the time anywhere in 2025-2028, half the time a few
    hours before a DST change, with open hours in the small hours of the day the clocks change. Holidays fall near
    the start, where they matter."""
    if draw(st.booleans()):
        zone = draw(st.sampled_from(ZONES))
        start = EPOCH + timedelta(microseconds=draw(st.integers(0, 366 * YEARS * 86400 * 10**6)))
        weekly = draw(weekly_spans())
    else:
        zone = draw(st.sampled_from([zone for zone in ZONES if dst_transitions(zone)]))
        change = draw(st.sampled_from(dst_transitions(zone)))
        start = change + timedelta(microseconds=draw(st.integers(-8 * 3600 * 10**6, 2 * 3600 * 10**6)))
        change_day = WEEKDAYS[change.astimezone(ZoneInfo(zone)).weekday()]
        weekly = draw(weekly_spans(small_hours_on=change_day))
    local_day = start.astimezone(ZoneInfo(zone)).date()
    holidays = sorted({local_day + timedelta(days=n) for n in draw(st.lists(st.integers(-3, 40), max_size=5))})
    config = {
        "kind": "business_hours",
        "timezone": zone,
        "weekly": weekly,
        "holidays": [day.isoformat() for day in holidays],
    }
    return config, start  # each one valid: see test_the_generated_calendars_are_ones_an_admin_may_save


def weekly_open_seconds(config: dict[str, Any]) -> float:
    def minutes(value: str) -> int:
        hours, mins = value.split(":")
        return int(hours) * 60 + int(mins)

    return 60.0 * sum(
        minutes(closes) - minutes(opens) for spans in config["weekly"].values() for opens, closes in spans
    )


def durations(config: dict[str, Any]) -> st.SearchStrategy[float]:
    """Zero to about eight weeks' worth of the calendar's open time (at most ten days), to the microsecond."""
    cap = min(10 * 86400.0, 8 * weekly_open_seconds(config))
    return st.integers(0, int(cap * 10**6)).map(lambda micros: micros / 10**6)


# -------------------------------------------------------------------------------- independent oracles


def _local_to_utc(day: date, clock: str, zone: ZoneInfo) -> datetime:
    if clock == "24:00":
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=zone).astimezone(UTC)


def span_images(config: dict[str, Any], first: datetime, last: datetime) -> list[tuple[datetime, datetime]]:
    """Every configured span of the local days from `first` to `last` (a day either side), mapped to UTC on its own."""
    zone = ZoneInfo(config["timezone"])
    holidays = {date.fromisoformat(day) for day in config["holidays"]}
    day = first.astimezone(zone).date() - timedelta(days=1)
    images = []
    while day <= last.astimezone(zone).date() + timedelta(days=1):
        if day not in holidays:
            for opens, closes in config["weekly"].get(WEEKDAYS[day.weekday()], []):
                begin, end = _local_to_utc(day, opens, zone), _local_to_utc(day, closes, zone)
                if end > begin:
                    images.append((begin, end))
        day += timedelta(days=1)
    return images


def in_open_hours(config: dict[str, Any], moment: datetime) -> bool:
    """Open at `moment`, or exactly at the close of an open span."""
    return any(begin <= moment <= end for begin, end in span_images(config, moment, moment))


def open_measure(config: dict[str, Any], start: datetime, end: datetime) -> float:
    """Open time in [start, end): the length of the union of the spans, each moment counted once."""
    total, covered_to = timedelta(0), start
    for opens, closes in sorted(span_images(config, start, end)):
        begin, close = max(opens, covered_to), min(closes, end)
        if close > begin:
            total += close - begin
            covered_to = close
    return total.total_seconds()


# -------------------------------------------------------------------------------- properties


@settings(max_examples=50, deadline=None)
@given(scenario=scenarios())
def test_the_generated_calendars_are_ones_an_admin_may_save(scenario):
    config, _ = scenario
    assert validate_calendar_config(config) == []  # slow: it lists every timezone on disk


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_a_deadline_never_lands_in_closed_hours(scenario, data):
    config, start = scenario
    calendar = calendar_from_config(config)
    seconds = data.draw(durations(config), label="seconds")

    due = calendar.add(start, seconds)

    assert due >= start
    assert in_open_hours(config, due), f"{due.astimezone(ZoneInfo(config['timezone']))} is in closed hours"


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_the_open_time_up_to_a_deadline_is_the_duration_added(scenario, data):
    config, start = scenario
    calendar = calendar_from_config(config)
    seconds = data.draw(durations(config), label="seconds")

    due = calendar.add(start, seconds)

    assert abs(calendar.open_seconds_between(start, due) - seconds) <= TOLERANCE


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_a_longer_target_never_gives_an_earlier_deadline(scenario, data):
    config, start = scenario
    calendar = calendar_from_config(config)
    first, second = sorted(data.draw(st.lists(durations(config), min_size=2, max_size=2), label="seconds"))

    assert calendar.add(start, first) <= calendar.add(start, second)


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_a_pause_never_makes_a_deadline_earlier(scenario, data):
    """A clock running since `start` pauses at t for p seconds; on resume its deadline is add(t + p, remaining)."""
    config, start = scenario
    calendar = calendar_from_config(config)
    target = data.draw(durations(config), label="target")
    due = calendar.add(start, target)
    paused_at = start + (due - start) * data.draw(st.floats(0, 1), label="share of the way")
    paused_for = timedelta(microseconds=data.draw(st.integers(0, 7 * 86400 * 10**6), label="pause"))

    remaining = calendar.open_seconds_between(paused_at, due)
    resumed_due = calendar.add(paused_at + paused_for, remaining)

    assert remaining >= 0
    assert resumed_due >= due
    if not paused_for:
        assert resumed_due == due or calendar.open_seconds_between(resumed_due, due) <= TOLERANCE


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_open_time_is_counted_once_and_never_exceeds_the_time_elapsed(scenario, data):
    config, start = scenario
    calendar = calendar_from_config(config)
    end = start + timedelta(microseconds=data.draw(st.integers(0, 21 * 86400 * 10**6), label="window"))

    counted = calendar.open_seconds_between(start, end)

    assert 0 <= counted <= (end - start).total_seconds() + TOLERANCE
    assert abs(counted - open_measure(config, start, end)) <= TOLERANCE
    assert calendar.open_seconds_between(end, start) == -counted


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_is_open_agrees_with_the_configured_hours(scenario, data):
    config, start = scenario
    moment = start + timedelta(microseconds=data.draw(st.integers(0, 14 * 86400 * 10**6), label="later"))
    expected = any(begin <= moment < end for begin, end in span_images(config, moment, moment))

    assert calendar_from_config(config).is_open(moment) == expected


@PROPERTY
@given(
    zone=st.sampled_from(ZONES),
    start=st.datetimes(
        min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds; the values are aware
        max_value=datetime(2028, 12, 31),  # noqa: DTZ001
        timezones=st.sampled_from([UTC, *(ZoneInfo(zone) for zone in ZONES)]),
    ),
    seconds=st.floats(min_value=0, max_value=30 * 86400, allow_nan=False),
)
def test_24x7_is_plain_addition_even_as_all_day_business_hours_across_dst(zone, start, seconds):
    """Drawn as local times (folds and skipped times included), used as the UTC instants the portal passes."""
    start = start.astimezone(UTC)
    always = calendar_from_config({"kind": "24x7"})
    all_day = calendar_from_config(
        {"kind": "business_hours", "timezone": zone, "weekly": {day: [["00:00", "24:00"]] for day in WEEKDAYS}}
    )
    plain = start + timedelta(seconds=seconds)

    for calendar in (always, all_day):
        assert calendar.add(start, seconds) == plain
        assert abs(calendar.open_seconds_between(start, plain) - (plain - start).total_seconds()) <= TOLERANCE
        assert calendar.is_open(start)


def test_the_scenarios_reach_dst_transitions_in_every_zone_that_has_them():
    assert {zone: len(dst_transitions(zone)) for zone in ZONES} == {
        "Europe/Berlin": 2 * YEARS,
        "America/New_York": 2 * YEARS,
        "Australia/Sydney": 2 * YEARS,
        "Asia/Kolkata": 0,
        "UTC": 0,
    }
    assert isinstance(calendar_from_config({"kind": "24x7"}), Calendar)


# -------------------------------------------------------------------------------- the two bugs these properties found


def test_spans_configured_out_of_order_count_in_time_order():
    calendar = calendar_from_config(
        {"kind": "business_hours", "timezone": "UTC", "weekly": {"mon": [["13:00", "17:00"], ["09:00", "12:00"]]}}
    )
    monday_8 = datetime(2026, 3, 2, 8, tzinfo=UTC)

    assert calendar.add(monday_8, 3600) == datetime(2026, 3, 2, 10, tzinfo=UTC)  # was 14:00
    assert calendar.add(monday_8, 5 * 3600) == datetime(2026, 3, 2, 15, tzinfo=UTC)  # was 10:00: before the 1-h one
    assert calendar.open_seconds_between(monday_8, datetime(2026, 3, 2, 14, tzinfo=UTC)) == 4 * 3600  # was 1 h


def test_a_span_closing_in_the_hour_dst_skips_is_not_counted_twice():
    # New York, Sunday 8 March 2026: at 02:00 EST the clocks jump to 03:00 EDT. "02:45" never shows on the wall;
    # zoneinfo reads it as 03:45 EDT (07:45 UTC), after the next span has opened at 03:00 EDT (07:00 UTC).
    calendar = calendar_from_config(
        {
            "kind": "business_hours",
            "timezone": "America/New_York",
            "weekly": {"sun": [["01:00", "02:45"], ["03:00", "04:00"]]},
        }
    )
    midnight = datetime(2026, 3, 8, 5, tzinfo=UTC)

    assert calendar.open_seconds_between(midnight, midnight + timedelta(hours=5)) == 2 * 3600  # 06:00-08:00 UTC
    assert calendar.add(midnight, 104 * 60) < calendar.add(midnight, 106 * 60)  # was 07:44, then 07:01
    assert calendar.add(midnight, 120 * 60) == datetime(2026, 3, 8, 8, tzinfo=UTC)  # was 07:15
