"""Windows are refused when inverted or overlapping within their scope; occurrences are cancelled one at a time."""

from datetime import time, timedelta

import pytest

from core.exceptions import ApplicationError
from maintenance.models import OccurrenceCancellation, RecurringWindow
from maintenance.selectors import maintenance_calendar, maintenance_windows_overlapping
from maintenance.services import occurrence_cancel, one_off_window_create, recurring_window_save
from tenancy.models import Region
from tests.factories import OrganizationFactory
from tests.maintenance.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _before_the_windows(time_machine):
    time_machine.move_to(at(2026, 3, 1), tick=False)


def one_off(support_admin, *, starts_at, ends_at, region="", organizations=(), title="Storage upgrade"):
    return one_off_window_create(
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        region=region,
        organizations=list(organizations),
        created_by=support_admin,
    )


@pytest.mark.parametrize("length", [timedelta(0), timedelta(hours=-1)])
def test_an_inverted_or_empty_window_is_refused(support_admin, new_york, length):
    with pytest.raises(ApplicationError, match="must end after it starts") as refused:
        one_off(support_admin, starts_at=at(2026, 3, 5, 12), ends_at=at(2026, 3, 5, 12) + length, region=Region.US)

    assert refused.value.errors[0]["field"] == "ends_at"


def test_a_region_window_overlapping_the_regions_daily_window_is_refused_with_the_clash_named(support_admin):
    with pytest.raises(ApplicationError) as refused:
        one_off(support_admin, starts_at=at(2026, 3, 5, 6, 30), ends_at=at(2026, 3, 5, 8), region=Region.US)

    assert refused.value.message == (
        "This window overlaps another window of the same scope (region US): “US daily maintenance” "
        "2026-03-05 06:00–2026-03-05 07:00 UTC. Choose other times, or cancel the other occurrence first."
    )
    assert refused.value.errors[0]["code"] == "overlap"


def test_touching_windows_do_not_overlap(support_admin, new_york):
    window = one_off(support_admin, starts_at=at(2026, 3, 5, 7), ends_at=at(2026, 3, 5, 8), region=Region.US)

    windows = maintenance_windows_overlapping(organization=new_york, start=at(2026, 3, 5), end=at(2026, 3, 6))
    assert [(w.starts_at, w.ends_at) for w in windows] == [
        (at(2026, 3, 5, 6), at(2026, 3, 5, 7)),
        (window.starts_at, window.ends_at),
    ]


def test_overlaps_are_refused_only_within_the_same_scope(support_admin, new_york, berlin):
    # Another region's window and an organization's own window may overlap the US daily window.
    one_off(support_admin, starts_at=at(2026, 3, 5, 6), ends_at=at(2026, 3, 5, 7), region=Region.EU, title="EU")
    one_off(support_admin, starts_at=at(2026, 3, 5, 6), ends_at=at(2026, 3, 5, 9), organizations=[new_york])
    # Two organization windows overlap only when they name a common organization.
    one_off(support_admin, starts_at=at(2026, 3, 5, 8), ends_at=at(2026, 3, 5, 10), organizations=[berlin])
    with pytest.raises(ApplicationError, match=r"same scope \(organizations Hooli GmbH, Initech\)"):
        one_off(
            support_admin, starts_at=at(2026, 3, 5, 8), ends_at=at(2026, 3, 5, 10), organizations=[new_york, berlin]
        )


def test_a_window_is_for_a_region_or_for_organizations_not_both(support_admin, new_york):
    with pytest.raises(ApplicationError, match="whole region or to named organizations"):
        one_off(
            support_admin,
            starts_at=at(2026, 3, 5, 12),
            ends_at=at(2026, 3, 5, 13),
            region=Region.US,
            organizations=[new_york],
        )


def test_cancelling_an_occurrence_frees_its_time_for_a_longer_window(support_admin, seeded_windows, new_york):
    key = f"{seeded_windows['US'].public_id}_20260305T060000Z"
    occurrence_cancel(key=key, reason="Replaced by the storage upgrade", cancelled_by=support_admin, now=at(2026, 3, 1))

    one_off(support_admin, starts_at=at(2026, 3, 5, 5), ends_at=at(2026, 3, 5, 9), region=Region.US)

    windows = maintenance_windows_overlapping(organization=new_york, start=at(2026, 3, 5), end=at(2026, 3, 6))
    assert [(w.title, w.starts_at, w.ends_at) for w in windows] == [
        ("Storage upgrade", at(2026, 3, 5, 5), at(2026, 3, 5, 9))
    ]
    cancelled = [w for w in maintenance_calendar(start=at(2026, 3, 5), end=at(2026, 3, 6)) if w.cancelled]
    assert [(w.title, w.starts_at) for w in cancelled] == [("US daily maintenance", at(2026, 3, 5, 6))]
    assert OccurrenceCancellation.objects.get().reason == "Replaced by the storage upgrade"


def test_an_occurrence_is_cancelled_once_and_never_after_it_ended(support_admin, seeded_windows):
    key = f"{seeded_windows['EU'].public_id}_20260305T010000Z"
    occurrence_cancel(key=key, reason="", cancelled_by=support_admin, now=at(2026, 3, 1))

    with pytest.raises(ApplicationError, match="already cancelled"):
        occurrence_cancel(key=key, reason="", cancelled_by=support_admin, now=at(2026, 3, 1))
    with pytest.raises(ApplicationError, match="is over"):
        occurrence_cancel(
            key=f"{seeded_windows['EU'].public_id}_20260228T010000Z",
            reason="",
            cancelled_by=support_admin,
            now=at(2026, 3, 1),
        )
    with pytest.raises(ApplicationError, match="no such maintenance window"):
        # Not an occurrence: the EU window starts at 01:00.
        occurrence_cancel(
            key=f"{seeded_windows['EU'].public_id}_20260306T020000Z",
            reason="",
            cancelled_by=support_admin,
            now=at(2026, 3, 1),
        )


def test_a_one_off_window_is_cancelled_whole(support_admin, new_york):
    window = one_off(support_admin, starts_at=at(2026, 3, 5, 12), ends_at=at(2026, 3, 5, 13), organizations=[new_york])

    occurrence_cancel(key=str(window.public_id), reason="Postponed", cancelled_by=support_admin, now=at(2026, 3, 1))

    assert maintenance_windows_overlapping(organization=new_york, start=at(2026, 3, 5, 8), end=at(2026, 3, 6)) == []
    window.refresh_from_db()
    assert (window.cancelled_by, window.cancel_reason) == (support_admin, "Postponed")


def test_a_recurring_rule_overlapping_another_rule_of_its_region_is_refused(seeded_windows):
    weekly = RecurringWindow(
        name="US Saturday long",
        region=Region.US,
        start_time=time(5, 0),
        duration=timedelta(hours=2),
        weekdays=[6],
        active_from=at(2026, 4, 1),
    )

    with pytest.raises(ApplicationError, match="“US daily maintenance” \\(daily 06:00–07:00 UTC\\)"):
        recurring_window_save(window=weekly)

    weekly.start_time = time(7, 0)  # right after the daily window: touching, not overlapping
    recurring_window_save(window=weekly)
    weekly.region = Region.EU
    weekly.start_time = time(0, 30)
    with pytest.raises(ApplicationError, match="region EU"):
        recurring_window_save(window=weekly)


def test_a_rule_that_ends_before_another_starts_does_not_clash(seeded_windows):
    seeded_windows["US"].active_until = at(2026, 4, 1)
    recurring_window_save(window=seeded_windows["US"])

    later = recurring_window_save(
        window=RecurringWindow(
            name="US daily maintenance from April",
            region=Region.US,
            start_time=time(6, 30),
            duration=timedelta(hours=1),
            active_from=at(2026, 4, 1, 6, 30),
        )
    )

    assert later.pk is not None


def test_a_rule_overlapping_a_one_off_window_of_its_region_is_refused(support_admin):
    one_off(support_admin, starts_at=at(2026, 3, 10, 12), ends_at=at(2026, 3, 10, 14), region=Region.EU)

    with pytest.raises(ApplicationError, match="“Storage upgrade” 2026-03-10 12:00"):
        recurring_window_save(
            window=RecurringWindow(
                name="EU lunch",
                region=Region.EU,
                start_time=time(13, 0),
                duration=timedelta(minutes=30),
                active_from=at(2026, 3, 2),
            )
        )


def test_a_rule_longer_than_a_day_is_refused():
    with pytest.raises(Exception, match="at most 24 hours"):
        recurring_window_save(
            window=RecurringWindow(
                name="Too long",
                region=Region.EU,
                start_time=time(12, 0),
                duration=timedelta(hours=25),
                active_from=at(2026, 3, 2),
            )
        )


def test_an_organization_of_another_region_is_unaffected_by_a_region_window(support_admin, berlin):
    one_off(support_admin, starts_at=at(2026, 3, 5, 12), ends_at=at(2026, 3, 5, 13), region=Region.US)
    other_eu = OrganizationFactory.create(region=Region.EU)

    for organization in (berlin, other_eu):
        windows = maintenance_windows_overlapping(
            organization=organization, start=at(2026, 3, 5, 2), end=at(2026, 3, 6)
        )
        assert windows == []
