"""The iCalendar feed: parses, holds the right occurrences with stable UIDs in UTC, and its secret can be rotated."""

import re
from datetime import UTC, timedelta

import pytest
from django.test import Client
from icalendar import Calendar

from maintenance.models import CalendarFeed
from maintenance.services import calendar_feed_ensure, occurrence_cancel, one_off_window_create
from tenancy.models import Region
from tests.factories import OrganizationFactory
from tests.maintenance.conftest import at

pytestmark = pytest.mark.django_db
NOW = at(2026, 3, 6, 12)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def feed_path(organization):
    return f"/calendar/{calendar_feed_ensure(organization=organization).token}.ics"


def download(path):
    response = Client().get(path)  # a calendar app: no session, no token header
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return response.content, Calendar.from_ical(response.content)


def events(calendar):
    return [
        (str(event["uid"]), event.decoded("dtstart"), event.decoded("dtend"), str(event["summary"]))
        for event in calendar.walk("VEVENT")
    ]


def test_the_feed_parses_and_holds_the_next_60_days_of_the_organizations_windows(
    new_york, support_admin, seeded_windows
):
    neighbour = OrganizationFactory.create(name="Umbrella", slug="umbrella", region=Region.US)
    mine = one_off_window_create(
        title="Initech database migration",
        starts_at=at(2026, 3, 10, 12),
        ends_at=at(2026, 3, 10, 14),
        region="",
        organizations=[new_york],
        created_by=support_admin,
    )
    one_off_window_create(
        title="Umbrella secret project",
        starts_at=at(2026, 3, 11, 12),
        ends_at=at(2026, 3, 11, 14),
        region="",
        organizations=[neighbour],
        created_by=support_admin,
    )
    us = seeded_windows["US"].public_id
    occurrence_cancel(key=f"{us}_20260312T060000Z", reason="", cancelled_by=support_admin, now=NOW)

    raw, calendar = download(feed_path(new_york))

    assert calendar["VERSION"] == "2.0"
    found = events(calendar)
    daily = [event for event in found if event[3] == "WALT Labs maintenance: US daily maintenance"]
    # From a day ago (6 March, 06:00, already over) to 60 days ahead (5 May, 06:00), less the cancelled 12 March.
    assert daily[0][1:3] == (at(2026, 3, 6, 6), at(2026, 3, 6, 7))
    assert daily[-1][1:3] == (at(2026, 5, 5, 6), at(2026, 5, 5, 7))
    assert len(daily) == 60
    assert at(2026, 3, 12, 6) not in [event[1] for event in daily]
    assert (f"{mine.public_id}@maintenance.walt-labs", at(2026, 3, 10, 12), at(2026, 3, 10, 14)) in [
        event[:3] for event in found
    ]
    assert "Umbrella" not in raw.decode()
    assert all(event[1].utcoffset() == event[2].utcoffset() == timedelta(0) for event in found)
    assert b"DTSTART:20260307T060000Z" in raw


def test_each_occurrence_keeps_its_uid_from_one_download_to_the_next(new_york, seeded_windows, time_machine):
    path = feed_path(new_york)
    _, first = download(path)
    time_machine.move_to(NOW + timedelta(days=1), tick=False)
    _, second = download(path)

    uid = f"{seeded_windows['US'].public_id}_20260308T060000Z@maintenance.walt-labs"
    assert uid in {event[0] for event in events(first)} & {event[0] for event in events(second)}
    assert len({event[0] for event in events(second)}) == len(events(second))


def test_an_eu_organizations_feed_holds_the_eu_windows(berlin):
    _, calendar = download(feed_path(berlin))

    starts = [event[1] for event in events(calendar)]
    assert starts[:2] == [at(2026, 3, 6, 1), at(2026, 3, 7, 1)]
    assert all(start.astimezone(UTC).hour == 1 for start in starts)


def test_a_wrong_or_rotated_secret_answers_404_and_only_admins_rotate(client, new_york, berlin, members):
    old = feed_path(new_york)
    assert Client().get("/calendar/not-the-secret.ics").status_code == 404
    assert Client().get(feed_path(berlin)).status_code == 200  # another organization's feed is its own secret

    client.force_login(members["initech"][1])
    assert client.post("/o/initech/maintenance/calendar/rotate/").status_code == 403
    client.force_login(members["hooli"][0])
    assert client.post("/o/initech/maintenance/calendar/rotate/").status_code == 404  # an admin elsewhere
    client.force_login(members["initech"][0])
    assert client.post("/o/initech/maintenance/calendar/rotate/").status_code == 302

    new = feed_path(new_york)
    assert new != old
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200
    assert CalendarFeed.objects.for_organization(new_york).get().rotated_by == members["initech"][0]


def test_the_page_shows_members_the_feed_address(client, new_york, members):
    client.force_login(members["initech"][1])

    html = client.get("/o/initech/maintenance/").content.decode()

    token = CalendarFeed.objects.for_organization(new_york).get().token
    assert re.search(rf'value="http://testserver/calendar/{re.escape(token)}\.ics"', html)
    assert "Make a new calendar address" not in html  # members read it; admins rotate it
