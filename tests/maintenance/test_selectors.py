"""The questions other apps ask: exact at the edges ([start, end)), the union of region and own windows."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from maintenance.models import RecurringWindow
from maintenance.selectors import (
    maintenance_active_for,
    maintenance_ends_at,
    maintenance_next_for,
    maintenance_periods,
    maintenance_windows_overlapping,
)
from maintenance.services import occurrence_cancel, one_off_window_create
from tenancy.models import Region
from tests.factories import OrganizationFactory
from tests.maintenance.conftest import at

pytestmark = pytest.mark.django_db
TICK = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("fixture", "start", "end"),
    [("new_york", at(2026, 3, 2, 6), at(2026, 3, 2, 7)), ("berlin", at(2026, 3, 2, 1), at(2026, 3, 2, 2))],
)
def test_the_region_window_is_start_inclusive_and_end_exclusive(request, fixture, start, end):
    organization = request.getfixturevalue(fixture)

    assert not maintenance_active_for(organization=organization, at=start - TICK)
    assert maintenance_active_for(organization=organization, at=start)
    assert maintenance_active_for(organization=organization, at=end - TICK)
    assert not maintenance_active_for(organization=organization, at=end)


def test_us_and_eu_organizations_have_their_own_region_windows(new_york, berlin):
    day = (at(2026, 3, 2), at(2026, 3, 3))

    us = maintenance_windows_overlapping(organization=new_york, start=day[0], end=day[1])
    eu = maintenance_windows_overlapping(organization=berlin, start=day[0], end=day[1])

    assert [(window.starts_at, window.ends_at, window.scope, window.region) for window in us] == [
        (at(2026, 3, 2, 6), at(2026, 3, 2, 7), "region", "US")
    ]
    assert [(window.starts_at, window.ends_at) for window in eu] == [(at(2026, 3, 2, 1), at(2026, 3, 2, 2))]


def test_overlap_is_exact_at_both_edges_of_the_question(new_york):
    window_start, window_end = at(2026, 3, 2, 6), at(2026, 3, 2, 7)

    def overlapping(start, end):
        return [w.starts_at for w in maintenance_windows_overlapping(organization=new_york, start=start, end=end)]

    assert overlapping(window_end, window_end + timedelta(hours=1)) == []  # starts where the window ends
    assert overlapping(window_start - timedelta(hours=1), window_start) == []  # ends where the window starts
    assert overlapping(window_end - TICK, window_end) == [window_start]
    assert overlapping(window_start - timedelta(hours=1), window_start + TICK) == [window_start]
    assert len(overlapping(at(2026, 3, 1), at(2026, 3, 8))) == 7


def test_the_edges_hold_on_the_day_new_york_changes_to_summer_time(new_york):
    """Windows are UTC: on 8 March 2026 the window still runs 06:00–07:00 UTC, 01:00–02:00 EST before the change
    at 07:00 UTC and 03:00 EDT the day after."""
    [window] = maintenance_windows_overlapping(organization=new_york, start=at(2026, 3, 8), end=at(2026, 3, 9))

    assert (window.starts_at, window.ends_at) == (at(2026, 3, 8, 6), at(2026, 3, 8, 7))
    local = ZoneInfo("America/New_York")
    assert window.starts_at.astimezone(local).strftime("%H:%M %Z") == "01:00 EST"
    assert window.ends_at.astimezone(local).strftime("%H:%M %Z") == "03:00 EDT"
    assert maintenance_active_for(organization=new_york, at=datetime(2026, 3, 8, 1, 59, tzinfo=local))
    assert not maintenance_active_for(organization=new_york, at=datetime(2026, 3, 8, 3, 0, tzinfo=local))


def test_an_aware_moment_in_any_timezone_means_the_same_instant(berlin):
    summer = ZoneInfo("Europe/Berlin")

    assert maintenance_active_for(organization=berlin, at=datetime(2026, 7, 1, 3, 0, tzinfo=summer))  # 01:00 UTC
    assert not maintenance_active_for(organization=berlin, at=datetime(2026, 7, 1, 4, 0, tzinfo=summer))


def test_naive_datetimes_are_refused(new_york):
    with pytest.raises(ValueError, match="aware"):
        maintenance_active_for(organization=new_york, at=datetime(2026, 3, 2, 6, 30))  # noqa: DTZ001


def test_a_cancelled_occurrence_is_no_window(new_york, berlin, seeded_windows, support_admin, time_machine):
    time_machine.move_to(at(2026, 3, 1), tick=False)
    occurrence_cancel(
        key=f"{seeded_windows['US'].public_id}_20260302T060000Z",
        reason="Nothing to do",
        cancelled_by=support_admin,
        now=at(2026, 3, 1),
    )

    assert not maintenance_active_for(organization=new_york, at=at(2026, 3, 2, 6, 30))
    assert maintenance_active_for(organization=new_york, at=at(2026, 3, 3, 6, 30))
    assert next_start(new_york, at(2026, 3, 2)) == at(2026, 3, 3, 6)


def test_an_organization_window_adds_to_its_region_windows_for_it_alone(new_york, support_admin):
    neighbour = OrganizationFactory.create(region=Region.US)
    one_off_window_create(
        title="Database upgrade",
        starts_at=at(2026, 3, 2, 6, 30),
        ends_at=at(2026, 3, 2, 9),
        region="",
        organizations=[new_york],
        created_by=support_admin,
    )

    mine = maintenance_windows_overlapping(organization=new_york, start=at(2026, 3, 2), end=at(2026, 3, 3))
    theirs = maintenance_windows_overlapping(organization=neighbour, start=at(2026, 3, 2), end=at(2026, 3, 3))

    assert [(w.title, w.scope) for w in mine] == [
        ("US daily maintenance", "region"),
        ("Database upgrade", "organization"),
    ]
    assert [w.title for w in theirs] == ["US daily maintenance"]
    assert maintenance_active_for(organization=new_york, at=at(2026, 3, 2, 8))
    assert not maintenance_active_for(organization=neighbour, at=at(2026, 3, 2, 8))
    # The union: one period from the region window's start to the organization window's end.
    assert maintenance_periods(organization=new_york, start=at(2026, 3, 2), end=at(2026, 3, 3)) == [
        (at(2026, 3, 2, 6), at(2026, 3, 2, 9))
    ]
    assert maintenance_ends_at(organization=new_york, at=at(2026, 3, 2, 6, 15)) == at(2026, 3, 2, 9)
    assert maintenance_ends_at(organization=neighbour, at=at(2026, 3, 2, 6, 15)) == at(2026, 3, 2, 7)
    assert maintenance_ends_at(organization=new_york, at=at(2026, 3, 2, 9)) is None


def test_a_region_one_off_window_concerns_every_organization_of_the_region(new_york, berlin, support_admin):
    one_off_window_create(
        title="Network change",
        starts_at=at(2026, 3, 4, 12),
        ends_at=at(2026, 3, 4, 13),
        region=Region.EU,
        organizations=[],
        created_by=support_admin,
    )

    assert maintenance_active_for(organization=berlin, at=at(2026, 3, 4, 12))
    assert not maintenance_active_for(organization=new_york, at=at(2026, 3, 4, 12))


def next_start(organization, after):
    found = maintenance_next_for(organization=organization, after=after)
    return None if found is None else found.starts_at


def test_next_window_starts_at_or_after_the_moment(new_york):
    assert next_start(new_york, at(2026, 3, 2, 6)) == at(2026, 3, 2, 6)
    # A window already running is not "next".
    assert next_start(new_york, at(2026, 3, 2, 6, 1)) == at(2026, 3, 3, 6)


def test_next_window_finds_a_rule_that_starts_later_and_nothing_when_there_is_none(berlin, seeded_windows):
    seeded_windows["EU"].active_until = at(2026, 1, 1)
    seeded_windows["EU"].save()
    RecurringWindow.objects.create(
        name="EU weekend maintenance",
        region=Region.EU,
        start_time=time(3, 0),
        duration=timedelta(hours=2),
        weekdays=[6, 7],
        active_from=at(2026, 6, 1),
    )

    found = maintenance_next_for(organization=berlin, after=at(2026, 3, 2))

    assert found is not None
    assert (found.starts_at, found.ends_at) == (at(2026, 6, 6, 3), at(2026, 6, 6, 5))  # the first Saturday
    assert next_start(berlin, at(2026, 1, 1)) == at(2026, 6, 6, 3)
    RecurringWindow.objects.filter(name="EU weekend maintenance").update(active_until=at(2026, 7, 1))
    assert maintenance_next_for(organization=berlin, after=at(2026, 7, 1)) is None


def test_weekday_rules_run_only_on_their_days_in_utc(berlin, seeded_windows):
    seeded_windows["EU"].delete()
    RecurringWindow.objects.create(
        name="EU Sunday late",
        region=Region.EU,
        start_time=time(23, 30),
        duration=timedelta(hours=1),
        weekdays=[7],
        active_from=at(2026, 1, 1),
    )

    windows = maintenance_windows_overlapping(organization=berlin, start=at(2026, 3, 2), end=at(2026, 3, 16))

    # 1 March 2026 is a Sunday: its occurrence runs into Monday and overlaps the question's first hour.
    assert [(w.starts_at, w.ends_at) for w in windows] == [
        (at(2026, 3, 1, 23, 30), at(2026, 3, 2, 0, 30)),
        (at(2026, 3, 8, 23, 30), at(2026, 3, 9, 0, 30)),
        (at(2026, 3, 15, 23, 30), at(2026, 3, 16, 0, 30)),
    ]
    assert all(w.starts_at.astimezone(UTC).isoweekday() == 7 for w in windows)
