"""Support admins manage windows and notices in the Django admin, under the same rules as the staff pages."""

import pytest
from django.apps import apps

from maintenance.models import Notice, OccurrenceCancellation, OneOffWindow, RecurringWindow
from tests.maintenance.conftest import at, seed_migration

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, support_admin, time_machine):
    time_machine.move_to(at(2026, 3, 1, 12), tick=False)
    client.force_login(support_admin)
    return client


@pytest.mark.parametrize(
    "model", ["recurringwindow", "oneoffwindow", "occurrencecancellation", "notice", "noticedismissal", "calendarfeed"]
)
def test_every_maintenance_list_opens(admin_client, model):
    assert admin_client.get(f"/admin/maintenance/{model}/").status_code == 200


def test_an_overlapping_one_off_window_is_refused_with_the_reason(admin_client):
    answer = admin_client.post(
        "/admin/maintenance/oneoffwindow/add/",
        {
            "title": "Storage",
            "region": "EU",
            "starts_at_0": "2026-03-05",
            "starts_at_1": "01:30:00",
            "ends_at_0": "2026-03-05",
            "ends_at_1": "03:00:00",
        },
    )

    assert answer.status_code == 200
    assert "overlaps another window of the same scope (region EU)" in answer.content.decode()
    assert not OneOffWindow.objects.exists()


def test_a_one_off_window_is_added_and_moves_its_notices_when_edited(admin_client, support_admin, new_york):
    added = admin_client.post(
        "/admin/maintenance/oneoffwindow/add/",
        {
            "title": "Initech migration",
            "region": "",
            "organizations": [new_york.pk],
            "starts_at_0": "2026-03-05",
            "starts_at_1": "12:00:00",
            "ends_at_0": "2026-03-05",
            "ends_at_1": "14:00:00",
        },
    )
    assert added.status_code == 302
    window = OneOffWindow.objects.get()
    assert list(window.organizations.all()) == [new_york]

    notice_added = admin_client.post(
        "/admin/maintenance/notice/add/",
        {
            "title": "Migration",
            "body": "Two hours.",
            "severity": "info",
            "one_off_window": window.pk,
            "lead_time": "1 00:00:00",
        },
    )
    assert notice_added.status_code == 302
    notice = Notice.objects.get()
    assert (notice.status, notice.starts_at, notice.ends_at) == ("draft", at(2026, 3, 5, 12), at(2026, 3, 5, 14))
    assert list(notice.organizations.all()) == [new_york]

    admin_client.post(
        f"/admin/maintenance/oneoffwindow/{window.pk}/change/",
        {
            "title": "Initech migration",
            "region": "",
            "organizations": [new_york.pk],
            "starts_at_0": "2026-03-05",
            "starts_at_1": "13:00:00",
            "ends_at_0": "2026-03-05",
            "ends_at_1": "16:00:00",
        },
    )
    notice.refresh_from_db()
    assert (notice.starts_at, notice.ends_at) == (at(2026, 3, 5, 13), at(2026, 3, 5, 16))

    admin_client.post("/admin/maintenance/notice/", {"action": "publish_notices", "_selected_action": [notice.pk]})
    notice.refresh_from_db()
    assert notice.status == "published"


def test_an_overlapping_recurring_window_is_refused(admin_client):
    answer = admin_client.post(
        "/admin/maintenance/recurringwindow/add/",
        {
            "name": "US early",
            "region": "US",
            "start_time": "05:30:00",
            "duration": "01:00:00",
            "weekdays": ["1", "2"],
            "active_from_0": "2026-04-01",
            "active_from_1": "00:00:00",
        },
    )

    assert answer.status_code == 200
    assert "“US daily maintenance” (daily 06:00–07:00 UTC)" in answer.content.decode()
    assert RecurringWindow.objects.count() == 2


def test_a_cancellation_must_name_a_real_occurrence(admin_client, seeded_windows):
    def cancel(start_time):
        return admin_client.post(
            "/admin/maintenance/occurrencecancellation/add/",
            {
                "recurring_window": seeded_windows["US"].pk,
                "starts_at_0": "2026-03-05",
                "starts_at_1": start_time,
                "reason": "Holiday",
            },
        )

    assert "no such maintenance window" in cancel("05:00:00").content.decode()
    assert cancel("06:00:00").status_code == 302
    assert OccurrenceCancellation.objects.get().starts_at == at(2026, 3, 5, 6)


def test_the_seeded_windows_are_the_slas_and_seeding_again_adds_nothing(seeded_windows):
    seed_migration.seed_region_windows(apps, None)

    assert sorted((w.region, w.schedule_label, w.active_until) for w in RecurringWindow.objects.all()) == [
        ("EU", "daily 01:00–02:00 UTC", None),
        ("US", "daily 06:00–07:00 UTC", None),
    ]
