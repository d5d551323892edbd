"""Alerts inside the organization's maintenance window: suppressed, then opened at the window's end if still firing.

The seeded windows: US daily 06:00–07:00 UTC, EU daily 01:00–02:00 UTC.
"""

from datetime import UTC, datetime, time, timedelta

import pytest

from maintenance.models import RecurringWindow
from monitoring.models import AlertGroup
from monitoring.services import alert_release_suppressed
from tenancy.models import Region
from tests.monitoring import payloads
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 11, 20, tzinfo=UTC)
WINDOWS = {
    Region.US: (time(6), DAY.replace(hour=6), DAY.replace(hour=7)),
    Region.EU: (time(1), DAY.replace(hour=1), DAY.replace(hour=2)),
}


@pytest.fixture(autouse=True)
def _seeded_windows(db):
    # A transactional test elsewhere may have flushed the migration's seed; make sure it is there.
    for region, (start, _starts_at, _ends_at) in WINDOWS.items():
        RecurringWindow.objects.get_or_create(
            region=region,
            start_time=start,
            defaults={
                "name": f"{region} daily",
                "duration": timedelta(hours=1),
                "active_from": datetime(2020, 1, 1, tzinfo=UTC),
            },
        )


@pytest.fixture(params=[Region.US, Region.EU])
def case(request, organization, premium_eu, make_source):
    """(source, token, window start, window end) for a US and an EU organization."""
    org = organization if request.param == Region.US else premium_eu
    source, token = make_source(org)
    _start, starts_at, ends_at = WINDOWS[request.param]
    return source, token, starts_at, ends_at


def test_an_alert_inside_the_window_is_suppressed_and_opens_when_the_window_ends(case, deliver, time_machine):
    _source, token, starts_at, ends_at = case
    time_machine.move_to(starts_at + timedelta(minutes=20), tick=False)

    event = deliver("alertmanager", token, payloads.alertmanager())

    assert event.outcome[0]["action"] == "suppressed"
    group = AlertGroup.objects.get()
    assert (group.state, group.suppressed_until, group.ticket) == ("suppressed", ends_at, None)
    assert not Ticket.objects.exists()

    time_machine.move_to(ends_at - timedelta(seconds=1), tick=False)
    assert alert_release_suppressed(now=ends_at - timedelta(seconds=1)) == 0

    time_machine.move_to(ends_at + timedelta(seconds=40), tick=False)  # the beat runs within the minute
    assert alert_release_suppressed(now=ends_at + timedelta(seconds=40)) == 1

    ticket = Ticket.objects.get()
    assert ticket.received_at == ends_at  # the SLA starts when the window ended, not when beat noticed
    assert ticket.sla_first_response_due_at == ends_at + timedelta(minutes=30)
    assert "maintenance window" in ticket.description
    assert "maintenance window" in Message.objects.get(ticket=ticket, internal=True).body
    assert alert_release_suppressed(now=ends_at + timedelta(minutes=2)) == 0


def test_an_alert_resolved_within_the_window_never_becomes_a_ticket(case, deliver, time_machine):
    _source, token, starts_at, ends_at = case
    time_machine.move_to(starts_at + timedelta(minutes=5), tick=False)
    deliver("alertmanager", token, payloads.alertmanager())
    time_machine.move_to(starts_at + timedelta(minutes=30), tick=False)
    event = deliver("alertmanager", token, payloads.resolved(payloads.alertmanager()))

    time_machine.move_to(ends_at + timedelta(minutes=5), tick=False)
    alert_release_suppressed(now=ends_at + timedelta(minutes=5))

    assert event.outcome[0]["action"] == "resolved_in_maintenance"
    assert AlertGroup.objects.get().state == "resolved_in_maintenance"
    assert not Ticket.objects.exists()


def test_repeats_after_the_window_release_at_once(case, deliver, time_machine):
    _source, token, starts_at, ends_at = case
    time_machine.move_to(starts_at + timedelta(minutes=5), tick=False)
    deliver("alertmanager", token, payloads.alertmanager())

    time_machine.move_to(ends_at + timedelta(seconds=5), tick=False)  # before the beat's next run
    event = deliver("alertmanager", token, payloads.alertmanager())

    assert event.outcome[0]["action"] == "opened_after_maintenance"
    assert Ticket.objects.get().received_at == ends_at
    assert AlertGroup.objects.get().occurrences == 2


def test_the_window_is_the_organizations_own(organization, premium_eu, make_source, deliver, time_machine):
    """At 06:20 UTC the US organization is in maintenance and the EU one is not."""
    us_source, us_token = make_source(organization)
    eu_source, eu_token = make_source(premium_eu)
    time_machine.move_to(DAY.replace(hour=6, minute=20), tick=False)

    deliver("alertmanager", us_token, payloads.alertmanager())
    deliver("alertmanager", eu_token, payloads.alertmanager())

    assert AlertGroup.objects.get(source=us_source).state == "suppressed"
    assert AlertGroup.objects.get(source=eu_source).state == "firing"
    assert Ticket.objects.get().organization == premium_eu


def test_an_alert_at_the_windows_end_is_not_suppressed(case, deliver, time_machine):
    _source, token, _starts_at, ends_at = case
    time_machine.move_to(ends_at, tick=False)  # windows are [start, end)

    deliver("alertmanager", token, payloads.alertmanager())

    assert Ticket.objects.get().received_at == ends_at
