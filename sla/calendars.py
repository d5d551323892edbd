"""SLA calendars: 24×7, or business hours in a timezone with holidays. Deadlines count open time only.

All arithmetic takes and returns aware UTC datetimes; local wall-clock hours are converted per day with zoneinfo,
so a DST change shifts the open hours in UTC exactly as it does on the customer's wall clock.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TWENTY_FOUR_SEVEN = {"kind": "24x7"}
_SEARCH_LIMIT = timedelta(days=3 * 366)  # a calendar with open hours always finds them well within this


class CalendarError(ValueError):
    pass


@dataclass(frozen=True)
class Calendar:
    timezone: str = "UTC"
    # weekday (0 = Monday) → open intervals in local wall-clock time; None means 24×7
    weekly: dict[int, tuple[tuple[time, time], ...]] | None = None
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def always_open(self) -> bool:
        return self.weekly is None

    def open_intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals in UTC, in order and disjoint, from the one containing `start` onwards (clipped to start).

        A day's spans are sorted in UTC, not taken in the order configured, and each begins where the previous one
        ended at the earliest: a span edge on a wall-clock time that DST skips maps past the next span's opening.
        """
        assert self.weekly is not None
        zone = ZoneInfo(self.timezone)
        day = start.astimezone(zone).date() - timedelta(days=1)  # an interval may cross midnight in UTC terms
        last_day = day + _SEARCH_LIMIT
        floor = start
        while day <= last_day:
            if day not in self.holidays:
                spans = sorted(
                    (datetime.combine(day, opens, tzinfo=zone).astimezone(UTC), _local_end(day, closes, zone))
                    for opens, closes in self.weekly.get(day.weekday(), ())
                )
                for opening, end in spans:
                    begin = max(opening, floor)
                    if end > begin:
                        yield begin, end
                        floor = end
            day += timedelta(days=1)

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment when `seconds` of open time have passed since `start`."""
        if self.always_open:
            return start + timedelta(seconds=seconds)
        remaining = timedelta(seconds=max(seconds, 0))
        for begin, end in self.open_intervals(start):
            if remaining == timedelta(0):
                return begin
            if end - begin >= remaining:
                return begin + remaining
            remaining -= end - begin
        raise CalendarError("The calendar has no open hours within three years.")

    def open_seconds_between(self, start: datetime, end: datetime) -> float:
        """Open time in [start, end); negative when end is before start."""
        if end < start:
            return -self.open_seconds_between(end, start)
        if self.always_open:
            return (end - start).total_seconds()
        total = timedelta(0)
        for begin, close in self.open_intervals(start):
            if begin >= end:
                break
            total += min(close, end) - begin
        return total.total_seconds()

    def is_open(self, moment: datetime) -> bool:
        if self.always_open:
            return True
        first = next(self.open_intervals(moment), None)
        return first is not None and first[0] == moment


def _local_end(day: date, closes: time, zone: ZoneInfo) -> datetime:
    if closes == time.max:  # "24:00": open until the next local midnight
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return datetime.combine(day, closes, tzinfo=zone).astimezone(UTC)


def _parse_time(value: str) -> time:
    return time.max if value == "24:00" else time.fromisoformat(value)


def calendar_from_config(config: dict[str, Any]) -> Calendar:
    """Build a calendar from its stored form; `validate_calendar_config` has vetted it already."""
    if config.get("kind", "24x7") == "24x7":
        return Calendar()
    weekly = {
        WEEKDAYS.index(day): tuple((_parse_time(opens), _parse_time(closes)) for opens, closes in spans)
        for day, spans in config.get("weekly", {}).items()
    }
    holidays = frozenset(date.fromisoformat(day) for day in config.get("holidays", []))
    return Calendar(timezone=config["timezone"], weekly=weekly, holidays=holidays)


def validate_calendar_config(config: Any) -> list[str]:
    """Every problem with a calendar configuration, in words an admin can act on (empty when it is sane)."""
    if not isinstance(config, dict):
        return ['The calendar must be an object such as {"kind": "24x7"}.']
    kind = config.get("kind")
    if kind == "24x7":
        return [] if set(config) == {"kind"} else ["A 24x7 calendar takes no other settings."]
    if kind != "business_hours":
        return ["The calendar kind is '24x7' or 'business_hours'."]
    problems = []
    if config.get("timezone") not in available_timezones():
        problems.append("Business hours need an IANA timezone, such as Europe/Berlin.")
    weekly = config.get("weekly")
    if not isinstance(weekly, dict) or not weekly:
        return [*problems, 'Business hours need at least one open day, e.g. {"mon": [["09:00", "17:00"]]}.']
    for day, spans in weekly.items():
        if day not in WEEKDAYS:
            problems.append(f"Unknown weekday '{day}': use {', '.join(WEEKDAYS)}.")
            continue
        problems.extend(_span_problems(day, spans))
    holidays = config.get("holidays", [])
    if not isinstance(holidays, list):
        problems.append("Holidays are a list of dates like 2026-12-25.")
    else:
        for holiday in holidays:
            try:
                date.fromisoformat(str(holiday))
            except ValueError:
                problems.append(f"'{holiday}' is not a date like 2026-12-25.")
    extra = set(config) - {"kind", "timezone", "weekly", "holidays"}
    if extra:
        problems.append(f"Unknown calendar settings: {', '.join(sorted(extra))}.")
    return problems


def _span_problems(day: str, spans: Any) -> list[str]:
    if not isinstance(spans, list) or not spans:
        return [f"{day}: give a list of [opens, closes] pairs."]
    problems = []
    parsed = []
    for span in spans:
        try:
            opens, closes = (_parse_time(value) for value in span)
        except (TypeError, ValueError):
            problems.append(f'{day}: {span!r} is not a pair of times like ["09:00", "17:00"].')
            continue
        if closes <= opens:
            problems.append(f"{day}: {span[0]}–{span[1]} closes before it opens.")
        parsed.append((opens, closes))
    parsed.sort()
    for (_, first_close), (second_open, _) in pairwise(parsed):
        if second_open < first_close:
            problems.append(f"{day}: open hours overlap.")
    return problems
