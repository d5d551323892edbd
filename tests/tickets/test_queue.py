"""The engineers' queue over the API: order, filters, counts, take-next, constant queries, and who may see it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tenancy.services import api_token_issue
from tests.factories import StaffFactory
from tickets import queue as queue_module
from tickets.models import TakeNextSkip, Ticket
from tickets.queue import queue_version
from tickets.services import ClockSummary, TicketSlaSummary, ticket_assign, ticket_open, ticket_take_next
from tickets.services.sla_summary import risk_moments

pytestmark = pytest.mark.django_db

QUEUE = "/api/v1/queue/"
TAKE_NEXT = "/api/v1/queue/take-next/"
COUNTS = "/api/v1/queue/counts/"
DEFAULT_ORDER = ["G1", "A4", "A2", "A1", "A6", "A3", "G2"]


def token_client(user) -> APIClient:
    """Authenticated as a real caller would be, so that query counts include the authentication."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)}")
    return client


def names(response, queue) -> list[str]:
    by_reference = {ticket.reference: name for name, ticket in queue.items()}
    return [by_reference[row["reference"]] for row in response.json()["results"]]


def test_the_default_order_is_priority_then_time_received_across_organizations(api_client, engineer, queue):
    response = api_client(engineer).get(QUEUE)

    assert response.status_code == 200
    assert names(response, queue) == DEFAULT_ORDER
    assert response.json()["count"] == len(DEFAULT_ORDER)


def test_a_row_carries_organization_package_region_age_and_clocks(api_client, engineer, queue):
    rows = {row["reference"]: row for row in api_client(engineer).get(QUEUE).json()["results"]}

    g1, a1, a4, g2 = (rows[queue[name].reference] for name in ("G1", "A1", "A4", "G2"))
    assert g1["organization"] == {"slug": "globex", "name": "Globex GmbH", "region": "EU", "package": "standard"}
    assert a1["organization"]["package"] == "premium"
    assert 25 * 60 <= g1["age_seconds"] < 26 * 60
    assert g1["clocks"]["first_response"]["queue_state"] == "warning"
    assert 0 < g1["clocks"]["first_response"]["remaining_seconds"] <= 5 * 60
    assert g1["clocks"]["resolution"]["queue_state"] == "ok"
    assert a1["clocks"]["first_response"]["queue_state"] == "breached"
    assert a1["clocks"]["first_response"]["remaining_seconds"] < 0
    assert a4["clocks"]["first_response"]["queue_state"] == "met"
    assert a4["assignee"]["name"] == engineer.display_name
    assert g2["clocks"]["resolution"]["queue_state"] == "paused"
    assert g2["clocks"]["resolution"]["remaining_seconds"] > 0
    assert rows[queue["A6"].reference]["clocks"]["first_response"]["queue_state"] == "late"


def test_other_orders_only_when_asked(api_client, engineer, queue):
    client = api_client(engineer)

    by_due = names(client.get(QUEUE, {"sort": "due"}), queue)
    by_activity = names(client.get(QUEUE, {"sort": "updated"}), queue)

    assert by_due == ["G1", "A2", "A3", "G2", "A1", "A6", "A4"]
    open_work = Ticket.objects.filter(status__in=["new", "open", "waiting_on_customer"]).order_by("-last_activity_at")
    assert by_activity == [ticket.subject.split()[0] for ticket in open_work]


FILTER_CASES = [
    ({"organization": "globex"}, ["G1", "G2"]),
    ({"package": "premium"}, ["A4", "A2", "A1", "A6", "A3"]),
    ({"package": "standard"}, ["G1", "G2"]),
    ({"region": "EU"}, ["G1", "G2"]),
    ({"region": "US"}, ["A4", "A2", "A1", "A6", "A3"]),
    ({"priority": "P1"}, ["G1", "A4", "A2"]),
    ({"type": "question"}, ["G1", "A3"]),
    ({"status": "waiting_on_customer"}, ["G2"]),
    ({"status": "new"}, ["G1", "A2", "A1", "A3"]),
    ({"assignee": "me"}, ["A4"]),
    ({"assignee": "unassigned"}, ["G1", "A2", "A1", "A6", "A3", "G2"]),
    ({"assignee": "anyone"}, DEFAULT_ORDER),
    ({"source": "monitoring"}, ["A3"]),
    ({"source": "portal"}, ["G1", "A4", "A2", "A1", "A6", "G2"]),
    ({"view": "breached"}, ["A1"]),
    ({"view": "at_risk"}, ["A1", "G1"]),
    ({"view": "at_risk", "sort": "priority"}, ["G1", "A1"]),
    ({"region": "US", "priority": "P1", "assignee": "unassigned"}, ["A2"]),
]


def test_each_filter_and_view(api_client, engineer, queue):
    """One queue for every case (building it is the slow part); each case is reported on its own."""
    client = api_client(engineer)
    wrong = {}
    for filters, expected in FILTER_CASES:
        response = client.get(QUEUE, filters)
        got = names(response, queue) if response.status_code == 200 else response.status_code
        if got != expected:
            wrong[str(filters)] = (got, expected)

    assert wrong == {}


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"priority": "P9"}, "priority"),
        ({"organization": "no-such-org"}, "organization"),
        ({"organization": "not a slug!"}, "organization"),
        ({"package": "gold"}, "package"),
        ({"region": "APAC"}, "region"),
        ({"type": "chat"}, "type"),
        ({"status": "resolved"}, "status"),
        ({"assignee": "someone"}, "assignee"),
        ({"source": "email"}, "source"),
        ({"view": "everything"}, "view"),
        ({"sort": "random"}, "sort"),
    ],
)
def test_a_bad_filter_is_400_with_the_field_named(api_client, engineer, organization, filters, field):
    response = api_client(engineer).get(QUEUE, filters)

    assert response.status_code == 400
    assert response.json()["message"] == "The request has invalid fields."
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_warning_and_breach_follow_the_clock(api_client, engineer, organization, member, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    ticket = ticket_open(
        organization=organization,
        requester=member,
        subject="Slow pages",
        description="",
        ticket_type="incident",
        priority="P2",
        source="portal",
    )
    client = api_client(engineer)

    def state():
        row = client.get(QUEUE).json()["results"][0]
        return row["clocks"]["first_response"]["queue_state"], names_of(client.get(QUEUE, {"view": "at_risk"}))

    def names_of(response):
        return [row["reference"] for row in response.json()["results"]]

    assert state() == ("ok", [])
    time_machine.shift(timedelta(minutes=23))  # past 75 % of 30 minutes
    assert state() == ("warning", [ticket.reference])
    time_machine.shift(timedelta(minutes=8))  # past the deadline, before any sweep ran
    assert state() == ("breached", [ticket.reference])
    assert names_of(client.get(QUEUE, {"view": "breached"})) == [ticket.reference]


def test_the_risk_columns_written_with_the_summary_follow_their_definition(queue):
    """The summary's UPDATE derives them in SQL; `risk_moments` is their definition (and the portable path)."""
    for name, ticket in queue.items():
        summary = TicketSlaSummary(
            ticket_id=ticket.pk,
            first_response=ClockSummary(ticket.sla_first_response_state, ticket.sla_first_response_due_at, None),
            resolution=ClockSummary(ticket.sla_resolution_state, ticket.sla_resolution_due_at, None),
            policy_version=0,
        )
        expected = risk_moments(summary, received_at=ticket.received_at, answered=ticket.first_responded_at is not None)

        assert (ticket.sla_risk_due_at, ticket.sla_at_risk_from) == expected, name
    assert queue["A1"].sla_risk_due_at == queue["A1"].sla_first_response_due_at  # breached, nobody answered
    assert queue["A6"].sla_risk_due_at == queue["A6"].sla_resolution_due_at  # answered late: resolution is left
    assert queue["G2"].sla_resolution_state == "paused"  # waiting on customer: only the unanswered first response
    assert queue["G2"].sla_risk_due_at == queue["G2"].sla_first_response_due_at
    assert queue["A4"].sla_risk_due_at == queue["A4"].sla_resolution_due_at


def test_counts_at_a_glance_and_todays_compliance(api_client, engineer, queue):
    counts = api_client(engineer).get(COUNTS).json()

    assert counts["total"] == len(DEFAULT_ORDER)
    assert counts["by_priority"] == {"P1": 3, "P2": 1, "P3": 2, "P4": 1}
    assert (counts["at_risk"], counts["breached"], counts["unassigned"]) == (2, 1, 6)
    # A4 answered in time, A6 late; A5 resolved within its hour.
    assert (counts["first_response_met"], counts["first_response_breached"]) == (1, 1)
    assert counts["first_response_compliance"] == 0.5
    assert (counts["resolution_met"], counts["resolution_breached"], counts["resolution_compliance"]) == (1, 0, 1.0)


def test_the_queue_answers_in_a_constant_number_of_queries(engineer, queue, organization):
    client = token_client(engineer)
    assert client.get(QUEUE).status_code == 200  # the token's use this hour is recorded: what follows only reads
    counts = {}
    cases: list[tuple[int, dict[str, str]]] = [
        (2, {}),
        (7, {}),
        (200, {}),
        (2, {"organization": "acme", "package": "premium"}),
        (2, {"package": "premium", "region": "US"}),
    ]
    for size, filters in cases:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(QUEUE, {"page_size": str(size), **filters, "view": "at_risk"})
        assert response.status_code == 200
        counts[size, tuple(filters)] = len(queries)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(QUEUE, {"page_size": 50}).status_code == 200

    assert counts[2, ()] == counts[7, ()] == counts[200, ()] == len(queries)
    assert max(counts.values()) <= 8, counts


def test_the_count_stops_at_the_cap_and_the_pages_at_the_capth_ticket(api_client, engineer, queue, monkeypatch):
    monkeypatch.setattr(queue_module, "COUNT_CAP", 3)
    client = api_client(engineer)

    first, second = client.get(QUEUE, {"page_size": 2}), client.get(QUEUE, {"page_size": 2, "page": 2})

    assert first.json()["count"] == 3
    assert names(first, queue) == DEFAULT_ORDER[:2]
    assert names(second, queue) == DEFAULT_ORDER[2:3]
    assert second.json()["next"] is None


# ---------------------------------------------------------------- take next


def test_take_next_assigns_the_head_of_the_queue(api_client, engineer, queue):
    response = api_client(engineer).post(TAKE_NEXT, {}, format="json")

    assert response.status_code == 200
    assert response.json()["reference"] == queue["G1"].reference  # P1, oldest, unassigned (A4 is taken)
    assert response.json()["assignee"]["id"] == str(engineer.public_id)
    assert Ticket.objects.get(pk=queue["G1"].pk).assignee == engineer


def test_skipping_the_head_needs_a_reason_which_is_recorded(api_client, engineer, queue):
    client = api_client(engineer)

    refused = client.post(TAKE_NEXT, {"skip": str(queue["G1"].public_id)}, format="json")
    taken = client.post(
        TAKE_NEXT, {"skip": str(queue["G1"].public_id), "reason": "Needs a German speaker."}, format="json"
    )

    assert refused.status_code == 400
    assert [error["field"] for error in refused.json()["errors"]] == ["reason"]
    assert taken.status_code == 200
    assert taken.json()["reference"] == queue["A2"].reference  # the next after G1 (A4 is assigned)
    skip = TakeNextSkip.objects.get()
    assert (skip.ticket, skip.engineer, skip.reason, skip.organization) == (
        queue["G1"],
        engineer,
        "Needs a German speaker.",
        queue["G1"].organization,
    )
    assert Ticket.objects.get(pk=queue["G1"].pk).assignee is None


def test_skipping_the_ticket_just_taken_puts_it_back(engineer, queue):
    taken = ticket_take_next(engineer=engineer)
    second = ticket_take_next(engineer=engineer, skip=taken, reason="Outside my skills.")

    assert (taken, second) == (queue["G1"], queue["A2"])
    assert Ticket.objects.get(pk=taken.pk).assignee is None
    assert ticket_take_next(engineer=StaffFactory.create()) == queue["G1"]  # the head again, for someone else


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "Because."}, "skip"),
        ({"skip": "not-a-uuid", "reason": "x"}, "skip"),
        ({"skip": "00000000-0000-0000-0000-000000000000", "reason": "x"}, "skip"),
    ],
)
def test_bad_take_next_input_is_400(api_client, engineer, queue, body, field):
    response = api_client(engineer).post(TAKE_NEXT, body, format="json")

    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert not TakeNextSkip.objects.exists()


def test_someone_elses_ticket_cannot_be_skipped(api_client, engineer, queue):
    colleague = StaffFactory.create()

    response = api_client(colleague).post(
        TAKE_NEXT, {"skip": str(queue["A4"].public_id), "reason": "Not mine."}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "not_skippable"


def test_take_next_on_an_empty_queue_is_409_and_records_nothing(api_client, engineer, queue):
    for name in ("G1", "A2", "A1", "A6", "A3", "G2"):
        ticket_assign(ticket=queue[name], actor=engineer, assignee=engineer)

    response = api_client(engineer).post(TAKE_NEXT, {"skip": str(queue["G2"].public_id), "reason": "x"}, format="json")

    assert response.status_code == 409
    assert not TakeNextSkip.objects.exists()


# ---------------------------------------------------------------- the change marker


def test_the_change_marker_moves_on_every_ticket_write(engineer, queue):
    before = queue_version()
    assert queue_version() == before

    ticket_assign(ticket=queue["A3"], actor=engineer, assignee=engineer)

    assert queue_version() != before


def test_the_change_marker_sees_a_write_that_commits_after_a_newer_one(engineer, queue):
    newest = queue_version()
    # A transaction that stamped its row a moment ago but commits only now: not the newest, still a change.
    Ticket.objects.filter(pk=queue["A3"].pk).update(updated_at=timezone.now() - timedelta(seconds=5))
    assert queue_version() != newest


# ---------------------------------------------------------------- who may see it


@pytest.mark.parametrize("path", [QUEUE, COUNTS, TAKE_NEXT])
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_customers_get_404_from_every_queue_api(api_client, member, org_admin, path, method):
    for customer in (member, org_admin):
        assert getattr(api_client(customer), method)(path).status_code == 404


@pytest.mark.parametrize("path", [QUEUE, COUNTS, TAKE_NEXT])
def test_anonymous_callers_are_told_to_authenticate(path):
    response = APIClient().get(path)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_support_admins_work_the_queue_too(api_client, support_admin, queue):
    assert names(api_client(support_admin).get(QUEUE), queue) == DEFAULT_ORDER


def test_the_queue_is_in_the_openapi_schema(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()

    assert {"/api/v1/queue/", "/api/v1/queue/counts/", "/api/v1/queue/take-next/"} <= set(schema["paths"])
