from datetime import timedelta

import pytest

from sla.models import Clock, PolicyVersion

pytestmark = pytest.mark.django_db

CONTRACT = "/api/v1/orgs/acme/contract/"


def test_members_read_their_contract_targets(api_client, member, organization):
    response = api_client(member).get(CONTRACT)

    assert response.status_code == 200
    body = response.json()
    assert body["package"] == "premium"
    assert body["policy_version"] == 0
    assert body["targets"]["first_response_seconds"] == {"*": 1800}
    assert body["targets"]["resolution_seconds"]["incident"] == {"*": 14400}
    assert body["targets"]["calendar"] == {"kind": "24x7"}
    assert body["history"] == []


def test_customers_cannot_change_targets(api_client, org_admin, organization):
    response = api_client(org_admin).put(
        CONTRACT, {"overrides": {"first_response_seconds": {"*": 60}}, "reason": "please"}, format="json"
    )

    assert response.status_code == 403
    assert not PolicyVersion.objects.exists()


def test_staff_write_a_new_version_with_who_when_and_why(api_client, support_admin, member, organization):
    overrides = {"first_response_seconds": {"P1": 900}, "warning_threshold": 0.8}

    response = api_client(support_admin).put(
        CONTRACT, {"overrides": overrides, "reason": "Amendment 3: P1 in 15 minutes"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["policy_version"] == 1
    assert body["overrides"] == overrides
    assert body["targets"]["first_response_seconds"] == {"*": 1800, "P1": 900}
    assert [(row["version"], row["reason"], row["created_by"]) for row in body["history"]] == [
        (1, "Amendment 3: P1 in 15 minutes", support_admin.email)
    ]
    assert api_client(member).get(CONTRACT).json()["history"][0]["version"] == 1


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"first_response_seconds": {"*": 0}}, "overrides.first_response_seconds.*"),
        ({"first_response_seconds": {"P7": 60}}, "overrides.first_response_seconds.P7"),
        ({"resolution_seconds": {"question": {"*": 600}}}, "overrides.resolution_seconds.question"),
        ({"warning_threshold": 1.5}, "overrides.warning_threshold"),
        ({"calendar": {"kind": "business_hours", "timezone": "Mars/Base", "weekly": {}}}, "overrides.calendar"),
        (
            {"calendar": {"kind": "business_hours", "timezone": "UTC", "weekly": {"mon": [["17:00", "09:00"]]}}},
            "overrides.calendar",
        ),
        ({"bonus": True}, "overrides.bonus"),
    ],
)
def test_invalid_overrides_are_refused_with_their_path(api_client, support_admin, organization, overrides, path):
    response = api_client(support_admin).put(CONTRACT, {"overrides": overrides, "reason": "x"}, format="json")

    assert response.status_code == 400
    assert path in {error.get("path") for error in response.json()["errors"]}
    assert not PolicyVersion.objects.exists()


def test_a_reason_is_required(api_client, support_admin, organization):
    response = api_client(support_admin).put(
        CONTRACT, {"overrides": {"warning_threshold": 0.5}, "reason": " "}, format="json"
    )

    assert response.status_code == 400


def test_rebaseline_previews_then_applies(api_client, support_admin, member, organization, open_ticket, time_machine):
    ticket = open_ticket(organization, member)
    staff = api_client(support_admin)
    staff.put(CONTRACT, {"overrides": {"first_response_seconds": {"*": 600}}, "reason": "10 minutes"}, format="json")
    before = Clock.objects.get(ticket=ticket, kind="first_response").due_at

    preview = staff.post(f"{CONTRACT}rebaseline/", {}, format="json").json()
    unchanged = Clock.objects.get(ticket=ticket, kind="first_response").due_at
    applied = staff.post(f"{CONTRACT}rebaseline/", {"apply": True}, format="json").json()
    after = Clock.objects.get(ticket=ticket, kind="first_response")

    assert (preview["applied"], preview["tickets"]) == (False, 1)
    assert [(m["reference"], m["clock"]) for m in preview["moves"]] == [("ACME-1", "first_response")]
    assert unchanged == before
    assert applied["applied"] is True
    assert after.policy_version == 1
    assert before is not None
    assert after.due_at is not None
    assert after.due_at <= before - timedelta(minutes=19)


def test_the_ticket_api_shows_each_clock(api_client, member, organization, open_ticket):
    ticket = open_ticket(organization, member)

    body = api_client(member).get(f"/api/v1/orgs/acme/tickets/{ticket.public_id}/").json()

    assert body["sla"]["first_response"]["state"] == "running"
    assert 1790 <= body["sla"]["first_response"]["remaining_seconds"] <= 1800
    assert body["sla"]["resolution"]["policy_version"] == 0
