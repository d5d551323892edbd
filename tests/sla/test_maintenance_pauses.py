import importlib
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps

from sla.models import Clock, ClockEvent, ClockState
from sla.services import policy_version_create, sla_maintenance_pauses_apply
from tickets.services import ticket_status_change

pytestmark = pytest.mark.django_db

seed_migration = importlib.import_module("maintenance.migrations.0002_seed_region_windows")
BEFORE_US_WINDOW = datetime(2026, 3, 2, 5, 50, tzinfo=UTC)  # the US window is 06:00–07:00 UTC


def first_response(ticket) -> Clock:
    return Clock.objects.get(ticket=ticket, kind="first_response")


@pytest.fixture(autouse=True)
def _an_hour_before_the_us_window(db, time_machine):
    # Autouse, so the organizations and their contracts are created in this test's past, not in the real one.
    time_machine.move_to(BEFORE_US_WINDOW - timedelta(hours=1), tick=False)
    # A transactional test elsewhere may have flushed the migration's seeded region windows.
    seed_migration.seed_region_windows(apps, None)


@pytest.fixture
def pausing_contract(organization, support_admin):
    policy_version_create(
        organization=organization,
        overrides={"maintenance_pauses": True},
        created_by=support_admin,
        reason="Clocks stop during maintenance",
        at=BEFORE_US_WINDOW - timedelta(hours=1),
    )


def test_clocks_pause_exactly_at_the_window_and_resume_at_its_end(
    pausing_contract, time_machine, organization, member, open_ticket
):
    time_machine.move_to(BEFORE_US_WINDOW, tick=False)
    ticket = open_ticket(organization, member)

    time_machine.move_to(BEFORE_US_WINDOW + timedelta(minutes=25), tick=False)  # the task runs late, at 06:15
    assert sla_maintenance_pauses_apply().paused == 2
    paused = first_response(ticket)
    assert (paused.state, paused.paused_at) == (ClockState.PAUSED, BEFORE_US_WINDOW + timedelta(minutes=10))
    assert paused.remaining_seconds == 20 * 60

    time_machine.move_to(BEFORE_US_WINDOW + timedelta(minutes=75), tick=False)  # 07:05
    assert sla_maintenance_pauses_apply().resumed == 2
    resumed = first_response(ticket)
    assert resumed.state == ClockState.RUNNING
    assert resumed.due_at == datetime(2026, 3, 2, 7, 20, tzinfo=UTC)
    kinds = list(ClockEvent.objects.filter(clock=resumed).values_list("kind", flat=True))
    assert kinds == ["started", "paused", "resumed"]


def test_without_the_contract_setting_maintenance_changes_nothing(time_machine, organization, member, open_ticket):
    time_machine.move_to(BEFORE_US_WINDOW, tick=False)
    ticket = open_ticket(organization, member)
    time_machine.move_to(BEFORE_US_WINDOW + timedelta(minutes=20), tick=False)

    assert sla_maintenance_pauses_apply().paused == 0
    assert first_response(ticket).due_at == BEFORE_US_WINDOW + timedelta(minutes=30)


def test_outside_the_organizations_window_nothing_pauses(
    pausing_contract, time_machine, other_organization, other_member, support_admin, open_ticket
):
    policy_version_create(
        organization=other_organization,
        overrides={"maintenance_pauses": True},
        created_by=support_admin,
        reason="Clocks stop during maintenance",
        at=BEFORE_US_WINDOW - timedelta(hours=1),
    )
    time_machine.move_to(BEFORE_US_WINDOW, tick=False)
    ticket = open_ticket(other_organization, other_member)  # an EU organization: its window is 01:00–02:00 UTC
    time_machine.move_to(BEFORE_US_WINDOW + timedelta(minutes=20), tick=False)

    assert sla_maintenance_pauses_apply().paused == 0
    assert first_response(ticket).state == ClockState.RUNNING


def test_a_ticket_waiting_on_the_customer_stays_paused_after_the_window(
    pausing_contract, time_machine, organization, member, engineer, open_ticket
):
    time_machine.move_to(BEFORE_US_WINDOW, tick=False)
    ticket = open_ticket(organization, member)
    time_machine.move_to(BEFORE_US_WINDOW + timedelta(minutes=15), tick=False)
    sla_maintenance_pauses_apply()
    ticket_status_change(ticket=ticket, actor=engineer, status="waiting_on_customer")

    time_machine.move_to(BEFORE_US_WINDOW + timedelta(minutes=80), tick=False)
    sla_maintenance_pauses_apply()

    resolution = Clock.objects.get(ticket=ticket, kind="resolution")
    assert (resolution.state, resolution.pause_reason) == (ClockState.PAUSED, "waiting_on_customer")
