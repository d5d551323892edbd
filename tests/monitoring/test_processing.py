"""From stored event to tickets: one open ticket per (source, dedup key), per-alert status, resolve policy."""

from datetime import timedelta

import pytest

from core.exceptions import PermissionDeniedError
from monitoring.models import AlertGroup, InboundEvent, Kind, ResolvePolicy
from monitoring.services import (
    SYSTEM_USER_EMAIL,
    inbound_event_process,
    inbound_event_replay,
    inbound_event_sweep,
    monitoring_test_alert,
)
from tests.monitoring import payloads
from tickets.models import Message, Ticket
from tickets.services import ticket_status_change

pytestmark = pytest.mark.django_db


def test_a_firing_alert_opens_an_incident_whose_sla_starts_at_receipt(am_source, deliver, organization):
    _source, token = am_source

    event = deliver("alertmanager", token, payloads.alertmanager())

    ticket = Ticket.objects.get()
    assert (ticket.organization, ticket.type, ticket.source, ticket.priority) == (
        organization,
        "incident",
        "monitoring",
        "P1",
    )
    assert ticket.requester is None
    assert ticket.received_at == event.received_at
    assert ticket.sla_first_response_due_at == event.received_at + timedelta(minutes=30)
    assert ticket.subject == "[Production] Disk almost full on db-1"
    # Labels, annotations and links travel in Markdown.
    assert "**alertname**: DiskFull" in ticket.description
    assert "[Runbook](<https://runbooks.example/disk>)" in ticket.description
    assert "[Source](<https://prometheus.example/graph?g0.expr=disk>)" in ticket.description
    assert event.status == InboundEvent.Status.PROCESSED
    assert event.outcome == [
        {"dedup_key": "a1b2c3d4e5f60718", "status": "firing", "action": "opened", "ticket": ticket.reference}
    ]


def test_sla_starts_at_receipt_even_when_processing_runs_later(am_source, post, time_machine):
    _source, token = am_source
    response = post("alertmanager", token, payloads.alertmanager())
    event = InboundEvent.objects.get(public_id=response.json()["event_id"])
    time_machine.shift(timedelta(minutes=7))  # the worker was busy

    inbound_event_process(event_id=event.pk)

    ticket = Ticket.objects.get()
    assert ticket.received_at == event.received_at
    assert ticket.sla_first_response_due_at == event.received_at + timedelta(minutes=30)


def test_duplicates_only_count(am_source, deliver):
    _source, token = am_source
    for _ in range(4):
        deliver("alertmanager", token, payloads.alertmanager())

    group = AlertGroup.objects.get()
    assert Ticket.objects.count() == 1
    assert group.occurrences == 4
    assert group.open
    assert InboundEvent.objects.filter(status="processed").count() == 4


def test_processing_twice_changes_nothing(am_source, deliver):
    _source, token = am_source
    event = deliver("alertmanager", token, payloads.alertmanager())

    assert inbound_event_process(event_id=event.pk) is None
    assert AlertGroup.objects.get().occurrences == 1


def test_each_alert_status_counts_in_a_mixed_group(am_source, deliver):
    _source, token = am_source
    deliver("alertmanager", token, payloads.alertmanager(payloads.am_alert("1" * 16), payloads.am_alert("2" * 16)))

    event = deliver(
        "alertmanager",
        token,
        payloads.alertmanager(payloads.am_alert("1" * 16, status="resolved"), payloads.am_alert("2" * 16)),
    )

    by_key = {group.dedup_key: group for group in AlertGroup.objects.select_related("ticket")}
    statuses = {key: group.ticket.status for key, group in by_key.items() if group.ticket is not None}
    assert statuses == {"1" * 16: "resolved", "2" * 16: "new"}
    assert not by_key["1" * 16].open
    assert by_key["2" * 16].occurrences == 2
    assert [item["action"] for item in event.outcome] == ["resolved", "duplicate"]


def test_resolve_policy_resolve_resolves_as_the_monitoring_user(am_source, deliver):
    _source, token = am_source
    deliver("alertmanager", token, payloads.alertmanager())

    deliver("alertmanager", token, payloads.resolved(payloads.alertmanager()))

    ticket = Ticket.objects.get()
    assert ticket.status == "resolved"
    note = Message.objects.select_related("author").get(ticket=ticket)
    assert note.internal
    author = note.author
    assert author is not None
    assert author.email == SYSTEM_USER_EMAIL
    assert not author.has_usable_password()


def test_resolve_policy_note_leaves_the_ticket_to_a_person(organization, make_source, deliver):
    _source, token = make_source(organization, resolve_policy=ResolvePolicy.NOTE)
    deliver("alertmanager", token, payloads.alertmanager())

    deliver("alertmanager", token, payloads.resolved(payloads.alertmanager()))

    ticket = Ticket.objects.get()
    assert ticket.status == "new"
    assert "stays open" in Message.objects.get(ticket=ticket, internal=True).body
    assert not AlertGroup.objects.get().open


def test_a_resolve_without_an_open_ticket_is_recorded_not_an_error(am_source, deliver):
    _source, token = am_source

    event = deliver("alertmanager", token, payloads.resolved(payloads.alertmanager()))

    assert event.status == "processed"
    assert event.outcome[0]["action"] == "resolved_without_open_alert"
    assert not Ticket.objects.exists()


def test_a_trigger_after_a_resolve_opens_a_new_ticket(am_source, deliver):
    _source, token = am_source
    deliver("alertmanager", token, payloads.alertmanager())
    deliver("alertmanager", token, payloads.resolved(payloads.alertmanager()))

    deliver("alertmanager", token, payloads.alertmanager())

    assert Ticket.objects.count() == 2
    assert AlertGroup.objects.filter(open=True).count() == 1


def test_a_ticket_a_person_resolved_while_the_alert_fires_gives_way_to_a_new_one(am_source, deliver, engineer):
    _source, token = am_source
    deliver("alertmanager", token, payloads.alertmanager())
    ticket_status_change(ticket=Ticket.objects.get(), actor=engineer, status="resolved")

    deliver("alertmanager", token, payloads.alertmanager())

    assert Ticket.objects.count() == 2


def test_alerts_without_a_fingerprint_are_keyed_by_their_labels(am_source, deliver):
    _source, token = am_source
    alert = payloads.am_alert("")
    deliver("alertmanager", token, payloads.alertmanager(alert))
    deliver("alertmanager", token, payloads.alertmanager(alert))

    assert AlertGroup.objects.get().occurrences == 2


def test_the_severity_map_sets_the_priority(organization, make_source, deliver):
    _source, token = make_source(organization, severity_map={"critical": "P2", "page": "P1"})

    deliver("alertmanager", token, payloads.alertmanager(payloads.am_alert("1" * 16, severity="page")))
    deliver("alertmanager", token, payloads.alertmanager(payloads.am_alert("2" * 16, severity="critical")))
    deliver("alertmanager", token, payloads.alertmanager(payloads.am_alert("3" * 16, severity="unheard-of")))

    assert sorted(Ticket.objects.values_list("priority", flat=True)) == ["P1", "P2", "P3"]


def test_pagerduty_trigger_acknowledge_resolve(organization, make_source, deliver):
    _source, token = make_source(organization, kind=Kind.PAGERDUTY)

    deliver("pagerduty", token, payloads.pagerduty(severity="warning"))
    ack = deliver("pagerduty", token, payloads.pagerduty("acknowledge"))
    deliver("pagerduty", token, payloads.pagerduty("resolve"))

    ticket = Ticket.objects.get()
    assert (ticket.priority, ticket.status) == ("P3", "resolved")
    assert ack.outcome[0]["action"] == "acknowledged"
    assert "[Dashboard](<https://grafana.example/d/disk>)" in ticket.description
    assert "free\\_bytes" in ticket.description


def test_pagerduty_triggers_without_a_key_are_separate_alerts(organization, make_source, deliver):
    _source, token = make_source(organization, kind=Kind.PAGERDUTY)

    deliver("pagerduty", token, payloads.pagerduty(dedup_key=None))
    deliver("pagerduty", token, payloads.pagerduty(dedup_key=None))

    assert Ticket.objects.count() == 2


def test_datadog_cycle_key_and_recovery(organization, make_source, deliver):
    _source, token = make_source(organization, kind=Kind.DATADOG)

    deliver("datadog", token, payloads.datadog())
    deliver("datadog", token, payloads.datadog("Re-Triggered"))
    deliver("datadog", token, payloads.datadog("Recovered", alert_type="success"))

    ticket = Ticket.objects.get()
    assert (ticket.priority, ticket.status) == ("P2", "resolved")
    assert AlertGroup.objects.get().occurrences == 2


def test_grafana_fires_and_resolves(organization, make_source, deliver):
    _source, token = make_source(organization, kind=Kind.GRAFANA)
    deliver("grafana", token, payloads.grafana())
    deliver("grafana", token, payloads.resolved(payloads.grafana()))
    assert Ticket.objects.get().status == "resolved"
    assert "[Silence](<https://grafana.example/alerting/silence/new>)" in Ticket.objects.get().description


def test_the_sweep_processes_events_whose_message_was_lost(am_source, post, time_machine):
    _source, token = am_source
    post("alertmanager", token, payloads.alertmanager())

    assert inbound_event_sweep(now=InboundEvent.objects.get().received_at + timedelta(seconds=10)) == 0
    assert inbound_event_sweep(now=InboundEvent.objects.get().received_at + timedelta(seconds=31)) == 1
    assert Ticket.objects.count() == 1


def test_staff_replay_processes_an_event_again(am_source, deliver, engineer, org_admin):
    _source, token = am_source
    event = deliver("alertmanager", token, payloads.resolved(payloads.alertmanager()))

    with pytest.raises(PermissionDeniedError, match="Only WALT staff"):
        inbound_event_replay(event=event, replayed_by=org_admin)
    replay = inbound_event_replay(event=event, replayed_by=engineer)

    assert replay.replay_of == event
    assert replay.payload == event.payload
    processed = inbound_event_process(event_id=replay.pk)
    assert processed is not None
    assert processed.status == "processed"


def test_the_test_alert_goes_through_the_intake(am_source):
    source, _token = am_source

    result = monitoring_test_alert(source=source)

    assert result.status_code == 202
    event = InboundEvent.objects.get()
    inbound_event_process(event_id=event.pk)
    assert Ticket.objects.get().priority == "P4"
