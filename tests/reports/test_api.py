"""The report API: JSON and CSV of the same figures, the breach list, exclusions, the overview, refusals."""

import csv
import io

import pytest
import yaml

from reports.exports import flatten
from reports.models import BreachExclusion, BreachExclusionChange
from sla.models import Record

pytestmark = pytest.mark.django_db

REPORT = "/api/v1/orgs/acme-eu/reports/sla/"
BREACHES = "/api/v1/orgs/acme-eu/reports/sla/breaches/"
OVERVIEW = "/api/v1/reports/sla/overview/"
MARCH = {"month": "2026-03"}


def exclusion_url(month, name: str, clock: str, epoch: int = 0) -> str:
    return f"{BREACHES}{month.tickets[name].public_id}/{clock}/{epoch}/exclusion/"


def streamed(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def test_a_member_reads_the_months_figures(month, api_client):
    response = api_client(month.customer).get(REPORT, MARCH)

    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {
        "from": "2026-03-01",
        "to": "2026-03-31",
        "timezone": "Europe/Berlin",
        "starts_at": "2026-02-28T23:00:00Z",
        "ends_at": "2026-03-31T22:00:00Z",
        "label": "March 2026",
    }
    assert body["tickets"]["received"] == 8
    first = body["first_response"]
    assert (first["met"], first["breached"], first["excluded"]) == (6, 2, 1)
    assert (first["share_met"], first["share_met_after_exclusions"]) == (0.75, 0.8571)
    assert (first["median_seconds"], first["p95_seconds"]) == (750.0, 2406.0)
    assert body["resolution"]["reopened"] == 1
    assert body["aim"] == {"target_seconds": 1800, "resolved": 8, "within": 2, "share": 0.25}
    assert [(p["policy_version"], p["tickets"]) for p in body["policies"]] == [(0, 5), (1, 3)]
    assert len(body["history"]) == 12


def test_staff_read_any_organizations_report(month, api_client):
    response = api_client(month.engineer).get(REPORT, MARCH)

    assert response.status_code == 200
    assert response.json()["organization"]["slug"] == "acme-eu"


def test_the_csv_holds_exactly_the_json_figures(month, api_client):
    client = api_client(month.customer_admin)
    document = client.get(REPORT, MARCH).json()

    response = client.get(REPORT, MARCH, HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="acme-eu-sla-report-2026-03.csv"'
    rows = list(csv.reader(io.StringIO(streamed(response))))
    assert rows[0] == ["figure", "value"]
    from_csv = dict(rows[1:])
    expected = {name: "" if value == "" else str(value) for name, value in flatten(document)}
    assert from_csv.keys() == expected.keys()
    for name, value in expected.items():
        if isinstance(value, str) and from_csv[name] != value:
            assert float(from_csv[name]) == pytest.approx(float(value)), name
    assert from_csv["first_response.share_met"] == "0.75"
    assert from_csv["resolution.breached"] == "1"
    assert from_csv["history.11.first_response.excluded"] == "1"
    assert from_csv["generated_at"] == document["generated_at"]


def test_the_breach_list_by_deadline_with_links_lateness_and_exclusions(month, api_client):
    response = api_client(month.customer).get(BREACHES, MARCH)

    assert response.status_code == 200
    breaches = response.json()["results"]
    assert [(b["reference"], b["clock"], b["epoch"], b["late_seconds"]) for b in breaches] == [
        (month.tickets["T2"].reference, "first_response", 0, 900.0),
        (month.tickets["T4"].reference, "resolution", 1, 3600.0),
        (month.tickets["T5"].reference, "first_response", 0, 60.0),
    ]
    assert breaches[0]["link"] == f"http://testserver/o/acme-eu/tickets/{month.tickets['T2'].public_id}/"
    assert breaches[0]["exclusion"] is None
    assert breaches[2]["exclusion"]["excluded"] is True
    assert breaches[2]["exclusion"]["category"] == "customer_delay"
    assert breaches[2]["exclusion"]["reason"].startswith("The customer asked us to hold")
    assert "decided_by" not in breaches[2]["exclusion"]


def test_the_breach_list_streams_as_csv_with_formulas_defused(month, api_client):
    ticket = month.tickets["T2"]
    ticket.subject = '=HYPERLINK("http://evil.example")'
    ticket.save(update_fields=["subject"])

    response = api_client(month.customer).get(BREACHES, MARCH, HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(streamed(response))))
    assert [(r["reference"], r["clock"], r["late_seconds"], r["excluded"]) for r in rows] == [
        (ticket.reference, "first_response", "900.0", "no"),
        (month.tickets["T4"].reference, "resolution", "3600.0", "no"),
        (month.tickets["T5"].reference, "first_response", "60.0", "yes"),
    ]
    assert rows[0]["subject"] == '\'=HYPERLINK("http://evil.example")'
    assert rows[0]["deadline"] == "2026-03-03T09:30:00Z"
    assert rows[2]["exclusion_category"] == "customer_delay"


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"month": "2026-13"}, [("month", "invalid")]),
        ({"month": "March"}, [("month", "invalid")]),
        ({"from": "2026-03-05", "to": "2026-03-01"}, [("to", "before_from")]),
        ({"from": "yesterday", "to": "2026-02-30"}, [("from", "invalid"), ("to", "invalid")]),
        ({"from": "2025-01-01", "to": "2026-02-01"}, [("to", "too_long")]),
        ({"from": "2025-01-01"}, [("to", "required")]),
        ({"to": "2025-01-01"}, [("from", "required")]),
        ({"month": "2026-03", "from": "2026-03-01"}, [("month", "ambiguous")]),
        ({"month": "1999-12"}, [("month", "out_of_range")]),
    ],
)
def test_bad_periods_are_refused_with_every_field_error(month, api_client, query, errors):
    for accept in ("application/json", "text/csv"):
        response = api_client(month.customer).get(REPORT, query, HTTP_ACCEPT=accept)

        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert [(e["field"], e["code"]) for e in response.json()["errors"]] == errors


def test_thirteen_months_is_the_longest_period(month, api_client):
    response = api_client(month.customer).get(REPORT, {"from": "2025-01-01", "to": "2026-01-31"})

    assert response.status_code == 200


def test_staff_exclude_a_breach_and_count_it_again_with_every_decision_kept(month, api_client):
    client = api_client(month.admin)
    url = exclusion_url(month, "T2", "first_response")

    excluded = client.post(url, {"category": "agreed_maintenance", "reason": "Agreed window"}, format="json")
    counted = client.post(url, {"excluded": False, "reason": "The window was ours"}, format="json")

    assert excluded.status_code == 200
    assert excluded.json()["breach"]["exclusion"]["category"] == "agreed_maintenance"
    assert counted.status_code == 200
    body = counted.json()
    assert body["breach"]["exclusion"]["excluded"] is False
    assert [(h["action"], h["category"], h["reason"], h["changed_by"]) for h in body["history"]] == [
        ("excluded", "agreed_maintenance", "Agreed window", month.admin.email),
        ("reinstated", "", "The window was ours", month.admin.email),
    ]
    assert Record.objects.filter(ticket=month.tickets["T2"], kind="breach").count() == 1
    figures = client.get(REPORT, MARCH).json()["first_response"]
    assert (figures["excluded"], figures["share_met_after_exclusions"]) == (1, 0.8571)  # only T5 stays excluded


def test_an_exclusion_changes_the_share_after_exclusions_only(month, api_client):
    client = api_client(month.engineer)

    client.post(
        exclusion_url(month, "T4", "resolution", 1), {"category": "outside_scope", "reason": "Scope"}, format="json"
    )

    figures = client.get(REPORT, MARCH).json()["resolution"]
    assert (figures["breached"], figures["excluded"]) == (1, 1)
    assert (figures["share_met"], figures["share_met_after_exclusions"]) == (0.875, 1.0)


def test_bad_exclusions_list_every_problem_and_write_nothing(month, api_client):
    before = BreachExclusionChange.objects.count()
    client = api_client(month.engineer)

    response = client.post(
        exclusion_url(month, "T2", "first_response"), {"category": "bad-luck", "reason": "   "}, format="json"
    )
    missing = client.post(exclusion_url(month, "T2", "first_response"), {}, format="json")
    not_excluded = client.post(
        exclusion_url(month, "T2", "first_response"), {"excluded": False, "reason": "x"}, format="json"
    )
    wrong_type = client.post(exclusion_url(month, "T2", "first_response"), {"excluded": "perhaps"}, format="json")

    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("category", "invalid_choice"),
        ("reason", "blank"),
    ]
    assert [(e["field"], e["code"]) for e in missing.json()["errors"]] == [
        ("category", "required"),
        ("reason", "blank"),
    ]
    assert not_excluded.status_code == 400
    assert not_excluded.json()["errors"][0]["code"] == "not_excluded"
    assert wrong_type.status_code == 400
    assert wrong_type.json()["errors"][0]["field"] == "excluded"
    assert BreachExclusionChange.objects.count() == before
    assert not BreachExclusion.objects.filter(record__ticket=month.tickets["T2"]).exists()


def test_the_exclusion_endpoint_does_not_exist_for_customers(month, api_client):
    before = BreachExclusionChange.objects.count()
    url = exclusion_url(month, "T2", "first_response")

    for user in (month.customer, month.customer_admin):
        client = api_client(user)
        answers = [
            client.get(url).status_code,
            client.post(url, {"category": "customer_delay", "reason": "Ours"}, format="json").status_code,
        ]
        assert answers == [404, 404]
    assert BreachExclusionChange.objects.count() == before


def test_unknown_breaches_answer_404(month, api_client):
    client = api_client(month.engineer)

    assert client.get(exclusion_url(month, "T1", "first_response")).status_code == 404  # met: no breach
    assert client.get(exclusion_url(month, "T2", "resolution")).status_code == 404
    assert client.get(exclusion_url(month, "T4", "resolution", 7)).status_code == 404
    assert client.get(exclusion_url(month, "T2", "nonsense")).status_code == 404


def test_every_report_route_is_404_for_another_organization(month, api_client):
    outsider = api_client(month.outsider)
    foreign_breach = exclusion_url(month, "T2", "first_response")

    answers = {
        "report": outsider.get(REPORT, MARCH).status_code,
        "csv": outsider.get(REPORT, MARCH, HTTP_ACCEPT="text/csv").status_code,
        "breaches": outsider.get(BREACHES, MARCH).status_code,
        "breaches csv": outsider.get(BREACHES, MARCH, HTTP_ACCEPT="text/csv").status_code,
        "exclusion": outsider.post(foreign_breach, {"category": "other", "reason": "x"}, format="json").status_code,
    }

    assert set(answers.values()) == {404}, answers
    assert outsider.get(REPORT.replace("acme-eu", "no-such-org")).json() == outsider.get(REPORT).json()


def test_another_organizations_breach_is_404_under_this_organizations_slug(month, api_client):
    """Staff see both organizations, but a breach is looked up only inside the one in the URL."""
    assert Record.objects.filter(ticket=month.tickets["X"], kind="breach", clock_kind="first_response").exists()

    response = api_client(month.engineer).get(exclusion_url(month, "X", "first_response"))

    assert response.status_code == 404


def test_the_overview_ranks_organizations_worst_first_and_is_staff_only(month, api_client):
    response = api_client(month.engineer).get(OVERVIEW, MARCH)

    assert response.status_code == 200
    rows = response.json()["organizations"]
    assert [row["organization"]["slug"] for row in rows] == ["globex", "acme-eu"]
    assert rows[1]["overall"] == {
        "met": 13,
        "breached": 3,
        "excluded": 1,
        "share_met": round(13 / 16, 4),
        "share_met_after_exclusions": round(13 / 15, 4),
    }
    assert rows[0]["overall"]["share_met"] == 0.0  # Globex's one ticket was answered late and never resolved
    for user in (month.customer, month.customer_admin, month.outsider):
        assert api_client(user).get(OVERVIEW, MARCH).status_code == 404
    assert api_client(month.engineer).get(OVERVIEW, {"month": "soon"}).status_code == 400


def test_the_report_api_is_in_the_openapi_schema_with_examples_and_csv(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)

    report = schema["paths"]["/api/v1/orgs/{org_slug}/reports/sla/"]["get"]
    content = report["responses"]["200"]["content"]
    assert set(content) == {"application/json", "text/csv"}
    assert content["application/json"]["examples"]
    assert {p["name"] for p in report["parameters"]} >= {"month", "from", "to"}
    exclusion = schema["paths"]["/api/v1/orgs/{org_slug}/reports/sla/breaches/{ticket_id}/{clock}/{epoch}/exclusion/"]
    assert exclusion["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert "/api/v1/orgs/{org_slug}/reports/sla/breaches/" in schema["paths"]
    assert "/api/v1/reports/sla/overview/" in schema["paths"]
