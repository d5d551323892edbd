"""The span of time a report covers: whole days in the organization's timezone, read from `month` or `from`/`to`.

A report covers the days `from` to `to`, both included, each day counted from midnight to midnight in the
organization's timezone; `month=2026-03` is shorthand for its first and last day. Without either it covers the
current month so far. Every problem with the input is reported at once, each beside its field.
"""

import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from core.exceptions import ApplicationError

MAX_MONTHS = 13
HISTORY_MONTHS = 12
EARLIEST_YEAR, LATEST_YEAR = 2000, 2999  # beyond these a date is a typing error, not a report anyone wants
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the end of a shorter month."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    first_of_next = date(year + (month_index + 1) // 12, (month_index + 1) % 12 + 1, 1)
    return date(year, month_index + 1, min(day.day, (first_of_next - timedelta(days=1)).day))


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return add_months(month_start(day), 1) - timedelta(days=1)


def zone_of(name: str) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def local_today(*, timezone: str, now: datetime) -> date:
    return now.astimezone(zone_of(timezone)).date()


def midnight(day: date, zone: tzinfo) -> datetime:
    """The instant a day begins in `zone`, in UTC."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class ReportPeriod:
    first_day: date
    last_day: date
    timezone: str

    @property
    def zone(self) -> tzinfo:
        return zone_of(self.timezone)

    @property
    def starts_at(self) -> datetime:
        return midnight(self.first_day, self.zone)

    @property
    def ends_at(self) -> datetime:
        """The first instant after the period (the period is [starts_at, ends_at))."""
        return midnight(self.last_day + timedelta(days=1), self.zone)

    @property
    def is_month(self) -> bool:
        return self.first_day == month_start(self.first_day) and self.last_day == month_end(self.first_day)

    @property
    def month(self) -> str:
        """The month the period ends in, as YYYY-MM: the last month of the compliance history."""
        return f"{self.last_day:%Y-%m}"

    @property
    def label(self) -> str:
        if self.is_month:
            return f"{self.first_day:%B %Y}"
        return f"{self.first_day.isoformat()} to {self.last_day.isoformat()}"

    @property
    def slug(self) -> str:
        """For file names."""
        if self.is_month:
            return self.month
        return f"{self.first_day.isoformat()}_{self.last_day.isoformat()}"

    def query(self) -> dict[str, str]:
        if self.is_month:
            return {"month": self.month}
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}

    def history_months(self) -> list[date]:
        """The first day of each of the twelve months up to and including the month the period ends in."""
        last = month_start(self.last_day)
        return [add_months(last, offset) for offset in range(1 - HISTORY_MONTHS, 1)]


def month_period(first_day: date, *, timezone: str) -> ReportPeriod:
    return ReportPeriod(first_day=month_start(first_day), last_day=month_end(first_day), timezone=timezone)


def _error(field: str, code: str, detail: str) -> dict[str, str]:
    return {"field": field, "code": code, "detail": detail}


def _parse_month(value: str, errors: list[dict[str, str]]) -> date | None:
    match = _MONTH.match(value)
    if match is None or not 1 <= int(match.group(2)) <= 12:  # noqa: PLR2004 (months of the year)
        errors.append(_error("month", "invalid", "Give a month as YYYY-MM, for example 2026-03."))
        return None
    return _in_range(date(int(match.group(1)), int(match.group(2)), 1), "month", errors)


def _parse_day(value: str, field: str, errors: list[dict[str, str]]) -> date | None:
    try:
        if not _DAY.match(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        errors.append(_error(field, "invalid", "Give a date as YYYY-MM-DD, for example 2026-03-01."))
        return None
    return _in_range(day, field, errors)


def _in_range(day: date, field: str, errors: list[dict[str, str]]) -> date | None:
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        errors.append(_error(field, "out_of_range", f"Choose a date between {EARLIEST_YEAR} and {LATEST_YEAR}."))
        return None
    return day


def month_parse(params: Mapping[str, str], *, timezone: str, today: date) -> ReportPeriod:
    """A whole month from `month=YYYY-MM`; the current month without it."""
    value = (params.get("month") or "").strip()
    if not value:
        return month_period(today, timezone=timezone)
    errors: list[dict[str, str]] = []
    first_day = _parse_month(value, errors)
    if first_day is None:
        raise ApplicationError("The month is not valid.", errors=errors)
    return month_period(first_day, timezone=timezone)


def period_parse(params: Mapping[str, str], *, timezone: str, today: date) -> ReportPeriod:
    """The period named by `month`, or by `from` and `to` (both dates included), in the organization's timezone.

    Raises ApplicationError listing every problem: an unreadable date, a missing bound, `to` before `from`, a period
    longer than 13 months, or a month given together with a range.
    """
    month = (params.get("month") or "").strip()
    start = (params.get("from") or "").strip()
    end = (params.get("to") or "").strip()
    if not (month or start or end):
        return ReportPeriod(first_day=month_start(today), last_day=month_end(today), timezone=timezone)
    errors: list[dict[str, str]] = []
    if month:
        if start or end:
            errors.append(_error("month", "ambiguous", "Give a month or a range (from and to), not both."))
        first_day = _parse_month(month, errors)
        if errors or first_day is None:
            raise ApplicationError("The report period is not valid.", errors=errors)
        return month_period(first_day, timezone=timezone)
    if not start:
        errors.append(_error("from", "required", "Give the first day of the report, as YYYY-MM-DD."))
    if not end:
        errors.append(_error("to", "required", "Give the last day of the report, as YYYY-MM-DD."))
    first_day = _parse_day(start, "from", errors) if start else None
    last_day = _parse_day(end, "to", errors) if end else None
    if first_day is not None and last_day is not None:
        if last_day < first_day:
            errors.append(_error("to", "before_from", "The last day comes before the first day."))
        elif last_day + timedelta(days=1) > add_months(first_day, MAX_MONTHS):
            errors.append(
                _error("to", "too_long", f"A report covers at most {MAX_MONTHS} months; choose a shorter range.")
            )
    if errors or first_day is None or last_day is None:
        raise ApplicationError("The report period is not valid.", errors=errors)
    return ReportPeriod(first_day=first_day, last_day=last_day, timezone=timezone)
