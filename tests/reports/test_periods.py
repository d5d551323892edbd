"""Reading a report period: whole days in the organization's timezone, at most 13 months, every error at once."""

from datetime import UTC, date, datetime

import pytest

from core.exceptions import ApplicationError
from reports.periods import add_months, month_parse, period_parse

TODAY = date(2026, 3, 18)


def parse(**params: str):
    return period_parse(params, timezone="America/New_York", today=TODAY)


def codes(error: pytest.ExceptionInfo[ApplicationError]) -> list[tuple[str, str]]:
    return [(item["field"], item["code"]) for item in error.value.errors]


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 3, 1), -3, date(2025, 12, 1)),
        (date(2026, 3, 1), 13, date(2027, 4, 1)),
    ],
)
def test_adding_months_clamps_to_the_end_of_a_shorter_month(day, months, expected):
    assert add_months(day, months) == expected


def test_without_a_period_the_current_month_so_far():
    period = parse()

    assert (period.first_day, period.last_day) == (date(2026, 3, 1), date(2026, 3, 31))
    assert period.is_month


def test_a_month_runs_midnight_to_midnight_in_the_organizations_timezone():
    period = parse(month="2026-03")

    # New York moves to summer time on 8 March 2026.
    assert period.starts_at == datetime(2026, 3, 1, 5, tzinfo=UTC)
    assert period.ends_at == datetime(2026, 4, 1, 4, tzinfo=UTC)
    assert period.label == "March 2026"
    assert period.query() == {"month": "2026-03"}


def test_a_range_includes_both_days():
    period = parse(**{"from": "2026-03-02", "to": "2026-03-02"})

    assert period.starts_at == datetime(2026, 3, 2, 5, tzinfo=UTC)
    assert period.ends_at == datetime(2026, 3, 3, 5, tzinfo=UTC)
    assert period.label == "2026-03-02 to 2026-03-02"
    assert period.slug == "2026-03-02_2026-03-02"


def test_a_range_of_whole_months_is_a_month():
    assert parse(**{"from": "2026-02-01", "to": "2026-02-28"}).query() == {"month": "2026-02"}


def test_thirteen_months_at_most():
    assert parse(**{"from": "2025-03-01", "to": "2026-03-31"}).last_day == date(2026, 3, 31)
    with pytest.raises(ApplicationError) as refused:
        parse(**{"from": "2025-03-01", "to": "2026-04-01"})

    assert codes(refused) == [("to", "too_long")]


def test_every_error_at_once():
    with pytest.raises(ApplicationError) as refused:
        parse(**{"from": "2026-3-1", "to": "31/03/2026"})

    assert codes(refused) == [("from", "invalid"), ("to", "invalid")]


def test_empty_values_count_as_missing():
    with pytest.raises(ApplicationError) as refused:
        parse(**{"month": "", "from": " ", "to": "2026-03-01"})

    assert codes(refused) == [("from", "required")]


def test_history_ends_with_the_month_of_the_last_day():
    months = parse(**{"from": "2026-01-15", "to": "2026-02-10"}).history_months()

    assert (months[0], months[-1], len(months)) == (date(2025, 3, 1), date(2026, 2, 1), 12)


def test_the_overview_takes_a_month_only():
    assert month_parse({}, timezone="UTC", today=TODAY).month == "2026-03"
    assert month_parse({"month": "2025-12"}, timezone="UTC", today=TODAY).first_day == date(2025, 12, 1)
    with pytest.raises(ApplicationError) as refused:
        month_parse({"month": "2025-12-01"}, timezone="UTC", today=TODAY)
    assert codes(refused) == [("month", "invalid")]
