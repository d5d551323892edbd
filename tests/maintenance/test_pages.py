"""The customer page, the API, the banner and the staff pages."""

from datetime import timedelta

import pytest
from django.urls import reverse

from maintenance.models import Notice, NoticeDismissal
from maintenance.services import notice_create, notice_send_update, one_off_window_create
from tenancy.models import Region
from tests.factories import MembershipFactory, OrganizationFactory
from tests.maintenance.conftest import at

pytestmark = pytest.mark.django_db


def publish(support_admin, key, *, lead_time=timedelta(hours=24), title="Kernel updates", **fields):
    return notice_create(
        title=title,
        body="We patch **every** host.",
        severity="minor",
        occurrence_key=key,
        regions=fields.get("regions", []),
        organizations=fields.get("organizations", []),
        lead_time=lead_time,
        created_by=support_admin,
        publish=True,
        now=at(2026, 3, 1),
    )


def page(client, user, path):
    client.force_login(user)
    response = client.get(path)
    return response, response.content.decode()


def test_the_page_shows_windows_in_new_york_time_on_both_sides_of_the_dst_change(client, members, time_machine):
    time_machine.move_to(at(2026, 3, 6, 12), tick=False)

    response, html = page(client, members["initech"][1], "/o/initech/maintenance/")

    assert response.status_code == 200
    assert "Times are in America/New_York" in html
    assert "2026-03-07 01:00 EST (06:00 UTC)" in html
    assert "2026-03-08 01:00 EST (06:00 UTC)" in html  # the change happens at 07:00 UTC that day
    assert "2026-03-08 03:00 EDT (07:00 UTC)" in html
    assert "2026-03-09 02:00 EDT (06:00 UTC)" in html
    assert "All US customers" in html


def test_the_page_shows_windows_in_berlin_time_on_both_sides_of_the_dst_change(client, members, time_machine):
    time_machine.move_to(at(2026, 3, 27, 12), tick=False)

    _, html = page(client, members["hooli"][1], "/o/hooli/maintenance/")

    assert "2026-03-28 02:00 CET (01:00 UTC)" in html
    assert "2026-03-29 03:00 CEST (01:00 UTC)" in html  # 01:00 UTC is the very moment of the change
    assert "2026-03-30 03:00 CEST (01:00 UTC)" in html


def test_a_user_with_their_own_timezone_reads_it(client, members, time_machine):
    time_machine.move_to(at(2026, 3, 6, 12), tick=False)
    reader = members["initech"][1]
    reader.timezone = "Asia/Tokyo"
    reader.save()

    _, html = page(client, reader, "/o/initech/maintenance/")

    assert "2026-03-07 15:00 JST (06:00 UTC)" in html


def test_the_page_and_api_list_notices_and_the_organizations_own_windows_only(
    client, api_client, members, new_york, support_admin, time_machine
):
    time_machine.move_to(at(2026, 3, 1), tick=False)
    neighbour = OrganizationFactory.create(name="Umbrella", slug="umbrella", region=Region.US)
    mine = one_off_window_create(
        title="Initech database migration",
        starts_at=at(2026, 3, 3, 12),
        ends_at=at(2026, 3, 3, 14),
        region="",
        organizations=[new_york],
        created_by=support_admin,
    )
    one_off_window_create(
        title="Umbrella secret project",
        starts_at=at(2026, 3, 3, 12),
        ends_at=at(2026, 3, 3, 14),
        region="",
        organizations=[neighbour],
        created_by=support_admin,
    )
    notice = publish(support_admin, str(mine.public_id))

    _, html = page(client, members["initech"][1], "/o/initech/maintenance/")
    answer = api_client(members["initech"][1]).get("/api/v1/orgs/initech/maintenance/", {"days": 3})

    assert "<strong>every</strong>" in html
    assert "Initech only" in html
    assert "Umbrella" not in html
    assert answer.status_code == 200
    body = answer.json()
    assert [window["starts_at"] for window in body["windows"]] == [
        "2026-03-01T06:00:00Z",
        "2026-03-02T06:00:00Z",
        "2026-03-03T06:00:00Z",
        "2026-03-03T12:00:00Z",
    ]
    assert body["windows"][3] == {
        "id": str(mine.public_id),
        "title": "Initech database migration",
        "starts_at": "2026-03-03T12:00:00Z",
        "ends_at": "2026-03-03T14:00:00Z",
        "scope": "organization",
        "region": "",
        "kind": "one_off",
    }
    assert body["windows"][0]["scope"] == "region"
    assert body["windows"][0]["region"] == "US"
    [listed] = body["notices"]
    assert listed["id"] == str(notice.public_id)
    assert listed["window"] == str(mine.public_id)
    assert listed["announce_at"] == "2026-03-02T12:00:00Z"
    assert listed["body_html"] == "<p>We patch <strong>every</strong> host.</p>"
    assert "Umbrella" not in answer.content.decode()


def test_the_api_refuses_a_bad_horizon(api_client, members):
    answer = api_client(members["initech"][0]).get("/api/v1/orgs/initech/maintenance/", {"days": 61})

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "days"


def test_another_organizations_page_api_and_notice_answer_404(
    client, api_client, members, seeded_windows, support_admin, time_machine
):
    time_machine.move_to(at(2026, 3, 4, 12), tick=False)
    eu_notice = publish(support_admin, f"{seeded_windows['EU'].public_id}_20260305T010000Z")
    outsider = members["initech"][0]
    client.force_login(outsider)

    assert client.get("/o/hooli/maintenance/").status_code == 404
    assert api_client(outsider).get("/api/v1/orgs/hooli/maintenance/").status_code == 404
    # The EU notice does not concern Initech: dismissing it through Initech's URL finds nothing either.
    assert client.post(f"/o/initech/maintenance/notices/{eu_notice.public_id}/dismiss/").status_code == 404
    assert client.post(f"/o/hooli/maintenance/notices/{eu_notice.public_id}/dismiss/").status_code == 404
    assert NoticeDismissal.objects.count() == 0


def test_the_banner_shows_from_the_lead_time_until_the_window_ends_and_is_dismissed_per_person(
    client, members, seeded_windows, support_admin, engineer, time_machine
):
    time_machine.move_to(at(2026, 3, 1), tick=False)
    notice = publish(support_admin, f"{seeded_windows['US'].public_id}_20260305T060000Z", lead_time=timedelta(hours=6))
    ada, max_ = members["initech"]

    time_machine.move_to(at(2026, 3, 5) - timedelta(seconds=1), tick=False)
    assert "Maintenance: Kernel updates" not in page(client, ada, "/o/initech/")[1]

    time_machine.move_to(at(2026, 3, 5), tick=False)
    _, html = page(client, ada, "/o/initech/tickets/")
    assert "Maintenance: Kernel updates" in html
    assert "2026-03-05 01:00 EST (06:00 UTC) until 2026-03-05 02:00 EST (07:00 UTC)" in html
    assert "Maintenance: Kernel updates" not in page(client, engineer, "/o/initech/")[1]

    client.force_login(ada)
    dismissed = client.post(
        f"/o/initech/maintenance/notices/{notice.public_id}/dismiss/", {"next": "/o/initech/tickets/"}
    )
    assert dismissed.status_code == 302
    assert dismissed["Location"] == "/o/initech/tickets/"
    assert "Maintenance: Kernel updates" not in page(client, ada, "/o/initech/")[1]
    assert "Maintenance: Kernel updates" in page(client, max_, "/o/initech/")[1]  # per person

    notice.announced_at = at(2026, 3, 5)
    notice.save()
    notice_send_update(notice=notice, now=at(2026, 3, 5, 1))
    assert "Maintenance: Kernel updates" in page(client, ada, "/o/initech/")[1]  # an update shows it again

    time_machine.move_to(at(2026, 3, 5, 7), tick=False)
    assert "Maintenance: Kernel updates" not in page(client, max_, "/o/initech/")[1]


def test_dismissing_refuses_a_redirect_off_the_site(client, members, seeded_windows, support_admin, time_machine):
    time_machine.move_to(at(2026, 3, 4, 12), tick=False)
    notice = publish(support_admin, f"{seeded_windows['US'].public_id}_20260305T060000Z")
    client.force_login(members["initech"][0])

    answer = client.post(
        f"/o/initech/maintenance/notices/{notice.public_id}/dismiss/", {"next": "https://evil.example/"}
    )

    assert answer["Location"] == "/o/initech/maintenance/"


def test_staff_read_the_calendar_and_only_support_admins_change_it(client, engineer, members, new_york, time_machine):
    time_machine.move_to(at(2026, 3, 1, 12), tick=False)

    response, html = page(client, engineer, "/staff/maintenance/")

    assert response.status_code == 200
    assert "US daily maintenance" in html
    assert "Affects all 1 US organization<" in html
    assert "Sun 2026-03-01" in html
    assert "Sat 2026-03-14" in html
    assert client.post("/staff/maintenance/windows/new/", {}).status_code == 403
    assert page(client, members["initech"][0], "/staff/maintenance/")[0].status_code == 404


def test_a_support_admin_adds_a_window_cancels_an_occurrence_and_publishes_a_notice(
    client, support_admin, seeded_windows, new_york, time_machine
):
    time_machine.move_to(at(2026, 3, 1, 12), tick=False)
    client.force_login(support_admin)

    overlapping = client.post(
        "/staff/maintenance/windows/new/",
        {"title": "Storage", "starts_at": "2026-03-05T06:30", "ends_at": "2026-03-05T08:00", "region": "US"},
    )
    assert overlapping.status_code == 400
    assert "overlaps another window of the same scope (region US)" in overlapping.content.decode()

    key = f"{seeded_windows['US'].public_id}_20260305T060000Z"
    assert client.get(f"/staff/maintenance/occurrences/cancel/?occurrence={key}").status_code == 200
    cancelled = client.post("/staff/maintenance/occurrences/cancel/", {"occurrence": key, "reason": "Replaced"})
    assert cancelled.status_code == 302

    added = client.post(
        "/staff/maintenance/windows/new/",
        {"title": "Storage", "starts_at": "2026-03-05T05:00", "ends_at": "2026-03-05T09:00", "region": "US"},
    )
    assert added.status_code == 302
    window_key = added["Location"].split("occurrence=")[1]
    assert client.get(added["Location"]).status_code == 200

    published = client.post(
        "/staff/maintenance/notices/new/",
        {
            "title": "Storage upgrade",
            "body": "Four hours, **read-only**.",
            "severity": "major",
            "occurrence": window_key,
            "lead_hours": "48",
            "action": "publish",
        },
    )
    assert published.status_code == 302
    notice = Notice.objects.get()
    assert (notice.status, notice.regions, notice.lead_time) == ("published", ["US"], timedelta(hours=48))

    html = client.get("/staff/maintenance/").content.decode()
    assert "Cancelled" in html
    assert "Storage upgrade" in html

    edit = reverse("maintenance-staff-notice-edit", kwargs={"notice_id": notice.public_id})
    fields = {"title": "Storage upgrade", "body": "Five hours.", "severity": "major", "occurrence": window_key}
    saved = client.post(edit, {**fields, "lead_hours": "48", "action": "save"}, follow=True)
    assert "nobody was e-mailed" not in saved.content.decode()  # not announced yet: nothing to update
    notice.refresh_from_db()
    assert (notice.body, notice.update_count) == ("Five hours.", 0)


def test_editing_an_announced_notice_offers_an_update_and_sends_it_only_when_asked(
    client, support_admin, seeded_windows, new_york, time_machine
):
    time_machine.move_to(at(2026, 3, 1, 12), tick=False)
    key = f"{seeded_windows['US'].public_id}_20260305T060000Z"
    notice = publish(support_admin, key)
    Notice.objects.filter(pk=notice.pk).update(announced_at=at(2026, 3, 1, 12))
    client.force_login(support_admin)
    edit = reverse("maintenance-staff-notice-edit", kwargs={"notice_id": notice.public_id})
    fields = {"title": "Kernel updates", "body": "Now two reboots.", "severity": "minor", "occurrence": key}

    form = client.get(edit).content.decode()
    assert "Save and send update" in form

    saved = client.post(edit, {**fields, "lead_hours": "24", "action": "save"}, follow=True)
    assert "nobody was e-mailed" in saved.content.decode()
    notice.refresh_from_db()
    assert notice.update_count == 0

    client.post(edit, {**fields, "lead_hours": "24", "action": "send_update"})
    notice.refresh_from_db()
    assert notice.update_count == 1


def test_a_member_of_two_organizations_sees_each_ones_banner_on_the_home_page(
    client, members, berlin, seeded_windows, support_admin, time_machine
):
    time_machine.move_to(at(2026, 3, 1), tick=False)
    both = members["initech"][1]
    MembershipFactory.create(organization=berlin, user=both)
    publish(support_admin, f"{seeded_windows['EU'].public_id}_20260302T010000Z", title="EU patching")
    publish(support_admin, f"{seeded_windows['US'].public_id}_20260302T060000Z", title="US patching")
    time_machine.move_to(at(2026, 3, 1, 7), tick=False)  # both inside their 24 hours' lead time

    _, html = page(client, both, "/")

    assert "Maintenance: EU patching" in html
    assert "Maintenance: US patching" in html
