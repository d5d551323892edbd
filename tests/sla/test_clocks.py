"""The 30-minute and 4-hour promises, their pauses and their records, with time moved by time-machine."""

from datetime import timedelta

import pytest
from django.core import mail

from notifications.models import OutboxMessage
from sla.models import Clock, ClockState, Record
from sla.services import policy_version_create, sla_sweep
from tickets.models import Ticket
from tickets.services import (
    ticket_assign,
    ticket_priority_change,
    ticket_reply,
    ticket_status_change,
    ticket_type_change,
)

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)


def clock(ticket, kind, epoch=None):
    clocks = Clock.objects.filter(ticket=ticket, kind=kind).order_by("-epoch")
    return clocks.get(epoch=epoch) if epoch is not None else clocks.first()


def test_opening_arms_both_clocks_from_received_at(at_received, organization, member, open_ticket):
    ticket = open_ticket(organization, member)

    first, resolution = clock(ticket, "first_response"), clock(ticket, "resolution")
    assert first.due_at == at_received + 30 * MINUTE
    assert resolution.due_at == at_received + 4 * 60 * MINUTE
    assert first.state == resolution.state == ClockState.RUNNING
    assert first.policy_version == 0
    ticket.refresh_from_db()
    assert ticket.sla_first_response_due_at == first.due_at
    assert ticket.sla_next_due_at == first.due_at


def test_questions_resolve_within_an_hour(at_received, organization, member, open_ticket):
    ticket = open_ticket(organization, member, ticket_type="question")

    assert clock(ticket, "resolution").due_at == at_received + 60 * MINUTE


def test_the_first_public_staff_reply_in_time_meets_the_first_response(
    at_received, time_machine, organization, member, engineer, open_ticket
):
    ticket = open_ticket(organization, member)
    time_machine.shift(29 * MINUTE)

    ticket_reply(ticket=ticket, author=engineer, body="On it")

    first = clock(ticket, "first_response")
    assert first.state == ClockState.MET
    assert first.stopped_at == at_received + 29 * MINUTE
    assert not Record.objects.filter(kind="breach").exists()


def test_an_internal_note_does_not_stop_the_first_response(at_received, organization, member, engineer, open_ticket):
    ticket = open_ticket(organization, member)

    ticket_reply(ticket=ticket, author=engineer, body="Looking", internal=True)

    assert clock(ticket, "first_response").state == ClockState.RUNNING


def test_the_sweep_records_a_warning_at_75_percent_then_the_breach_once(
    at_received, time_machine, organization, member, engineer, support_admin, open_ticket
):
    ticket = open_ticket(organization, member)
    ticket_assign(ticket=ticket, actor=engineer, assignee=engineer)

    time_machine.shift(22 * MINUTE + timedelta(seconds=29))
    assert sla_sweep().warnings == 0
    time_machine.shift(timedelta(seconds=1))
    assert sla_sweep().warnings == 1
    time_machine.shift(8 * MINUTE)
    first = sla_sweep()
    second = sla_sweep()

    assert (first.breaches, second.breaches) == (1, 0)
    records = Record.objects.filter(ticket=ticket).order_by("recorded_at")
    assert [(r.kind, r.clock_kind) for r in records] == [("warning", "first_response"), ("breach", "first_response")]
    assert records[1].due_at == at_received + 30 * MINUTE
    recipients = set(
        OutboxMessage.objects.filter(idempotency_key__startswith="sla-breach").values_list("recipient", flat=True)
    )
    assert recipients == {engineer.pk, support_admin.pk}
    ticket.refresh_from_db()
    assert ticket.sla_first_response_state == "breached"


def test_a_late_reply_records_the_breach_itself_when_the_sweep_did_not_run(
    at_received, time_machine, organization, member, engineer, open_ticket
):
    ticket = open_ticket(organization, member)
    time_machine.shift(45 * MINUTE)

    ticket_reply(ticket=ticket, author=engineer, body="Sorry for the wait")
    sla_sweep()

    breaches = Record.objects.filter(kind="breach", clock_kind="first_response")
    assert [(b.detected_by, b.due_at) for b in breaches] == [("response", at_received + 30 * MINUTE)]
    assert clock(ticket, "first_response").stopped_at == at_received + 45 * MINUTE


def test_waiting_on_customer_pauses_resolution_and_a_customer_reply_resumes_it(
    at_received, time_machine, organization, member, engineer, open_ticket
):
    ticket = open_ticket(organization, member)
    time_machine.shift(60 * MINUTE)
    ticket_status_change(ticket=ticket, actor=engineer, status="waiting_on_customer")
    paused = clock(ticket, "resolution")
    assert paused.state == ClockState.PAUSED
    assert paused.due_at is None

    time_machine.shift(14 * MINUTE)
    ticket_reply(ticket=ticket, author=member, body="Logs attached")

    resumed = clock(ticket, "resolution")
    assert resumed.state == ClockState.RUNNING
    assert resumed.due_at == at_received + (4 * 60 + 14) * MINUTE
    assert resumed.paused_seconds == 14 * 60


def test_resolving_stops_resolution_and_an_unanswered_first_response(
    at_received, time_machine, organization, member, engineer, open_ticket
):
    ticket = open_ticket(organization, member)
    time_machine.shift(20 * MINUTE)

    ticket_status_change(ticket=ticket, actor=engineer, status="resolved")

    assert clock(ticket, "resolution").state == ClockState.MET
    assert clock(ticket, "first_response").state == ClockState.MET


def test_reopening_arms_a_new_resolution_epoch(at_received, time_machine, organization, member, engineer, open_ticket):
    ticket = open_ticket(organization, member)
    time_machine.shift(60 * MINUTE)
    ticket_status_change(ticket=ticket, actor=engineer, status="resolved")
    time_machine.shift(60 * MINUTE)

    ticket_status_change(ticket=ticket, actor=member, status="open")

    assert clock(ticket, "resolution", epoch=0).state == ClockState.MET
    reopened = clock(ticket, "resolution", epoch=1)
    assert reopened.state == ClockState.RUNNING
    assert reopened.due_at == at_received + (120 + 240) * MINUTE


def test_a_priority_change_recomputes_running_deadlines_from_the_snapshot(
    at_received, time_machine, organization, member, engineer, support_admin, open_ticket
):
    ticket = open_ticket(organization, member)
    policy_version_create(
        organization=organization,
        overrides={"resolution_seconds": {"incident": {"P1": 2 * 3600}}},
        created_by=support_admin,
        reason="P1 incidents in two hours",
        at=at_received + MINUTE,
    )
    time_machine.shift(30 * MINUTE)

    ticket_priority_change(ticket=ticket, actor=engineer, priority="P1")

    resolution = clock(ticket, "resolution")
    assert resolution.policy_version == 0  # the ticket keeps the snapshot it was opened under
    assert resolution.due_at == at_received + 4 * 60 * MINUTE


def test_a_type_change_moves_the_resolution_deadline(
    at_received, time_machine, organization, member, engineer, open_ticket
):
    ticket = open_ticket(organization, member)
    time_machine.shift(10 * MINUTE)

    ticket_type_change(ticket=ticket, actor=engineer, ticket_type="question")

    assert clock(ticket, "resolution").due_at == at_received + 60 * MINUTE


def test_a_type_change_past_the_new_deadline_records_the_breach_at_once(
    at_received, time_machine, organization, member, engineer, open_ticket
):
    ticket = open_ticket(organization, member)
    time_machine.shift(90 * MINUTE)

    ticket_type_change(ticket=ticket, actor=engineer, ticket_type="question")

    resolution = clock(ticket, "resolution")
    assert resolution.state == ClockState.BREACHED
    assert resolution.breached_at == at_received + 60 * MINUTE


def test_overrides_apply_to_tickets_opened_afterwards(
    at_received, time_machine, organization, member, support_admin, open_ticket
):
    before = open_ticket(organization, member)
    policy_version_create(
        organization=organization,
        overrides={"first_response_seconds": {"*": 15 * 60}},
        created_by=support_admin,
        reason="Faster first response agreed",
        at=at_received,
    )
    time_machine.shift(MINUTE)

    after = open_ticket(organization, member)

    assert clock(before, "first_response").due_at == at_received + 30 * MINUTE
    assert clock(after, "first_response").due_at == at_received + 16 * MINUTE
    assert clock(after, "first_response").policy_version == 1


def test_a_business_hours_calendar_counts_open_hours_only(
    at_received, time_machine, organization, member, support_admin, open_ticket
):
    policy_version_create(
        organization=organization,
        overrides={
            "calendar": {
                "kind": "business_hours",
                "timezone": "Europe/Berlin",
                "weekly": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
                "holidays": ["2026-03-03"],
            }
        },
        created_by=support_admin,
        reason="Business hours contract",
        at=at_received,
    )
    time_machine.move_to(at_received.replace(hour=15, minute=0), tick=False)  # 16:00 in Berlin (CET)

    ticket = open_ticket(organization, member)

    # One open hour is left on Monday; Tuesday is a holiday; three more hours run from 09:00 Wednesday (08:00 UTC).
    assert clock(ticket, "resolution").due_at == at_received.replace(day=4, hour=11, minute=0)


def test_notices_reach_the_engineers_on_duty_when_unassigned_and_are_mailed(
    at_received, time_machine, organization, member, engineer, open_ticket, django_capture_on_commit_callbacks
):
    from notifications.services import outbox_deliver_due

    open_ticket(organization, member)
    time_machine.shift(31 * MINUTE)
    sla_sweep()
    outbox_deliver_due()

    subjects = [message.subject for message in mail.outbox if "SLA breached" in message.subject]
    assert subjects == ["[ACME-1] SLA breached: first response was due 2026-03-02 10:42 UTC"]
    assert all(message.to == [engineer.email] for message in mail.outbox if "SLA" in message.subject)


def test_a_clock_state_summary_is_kept_on_the_ticket(
    at_received, time_machine, organization, member, engineer, open_ticket
):
    ticket = open_ticket(organization, member)
    ticket_status_change(ticket=ticket, actor=engineer, status="waiting_on_customer")

    ticket = Ticket.objects.get(pk=ticket.pk)

    assert ticket.sla_resolution_state == "paused"
    assert ticket.sla_resolution_remaining_seconds == 4 * 3600
    assert ticket.sla_next_due_at == ticket.sla_first_response_due_at
