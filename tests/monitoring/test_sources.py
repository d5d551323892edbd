"""Managing sources through the API and the portal: Premium only, tokens shown once and stored hashed."""

import hashlib

import pytest

from monitoring.models import Delivery, InboundEvent, MonitoringSource
from tests.monitoring import payloads

pytestmark = pytest.mark.django_db

SOURCES = "/api/v1/orgs/acme/monitoring/sources/"


def test_an_admin_creates_a_source_and_sees_its_token_once(api_client, org_admin, post):
    client = api_client(org_admin)

    response = client.post(SOURCES, {"kind": "alertmanager", "name": "Prod"}, format="json")

    assert response.status_code == 201
    data = response.json()
    token = data["token"]
    assert len(token) >= 43
    assert data["intake_url"].endswith(f"/api/v1/integrations/alertmanager/{token}/")
    assert data["severity_map"] == {"critical": "P1", "error": "P2", "high": "P2", "warning": "P3", "info": "P4"}
    assert data["resolve_policy"] == "resolve"
    source = MonitoringSource.objects.get()
    assert source.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(client.get(SOURCES).json())
    assert post("alertmanager", token, payloads.alertmanager()).status_code == 202


def test_a_standard_organization_cannot_create_a_source(api_client, other_member):
    response = api_client(other_member).post(
        "/api/v1/orgs/globex/monitoring/sources/", {"kind": "grafana", "name": "Grafana"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "premium_only"
    assert not MonitoringSource.objects.exists()


def test_members_may_not_manage_sources(api_client, member):
    assert api_client(member).get(SOURCES).status_code == 403


def test_invalid_input_lists_every_field(api_client, org_admin):
    response = api_client(org_admin).post(SOURCES, {"kind": "nagios"}, format="json")

    assert response.status_code == 400
    assert {error["field"] for error in response.json()["errors"]} == {"kind", "name"}


def test_rotate_replaces_the_token(api_client, org_admin, am_source, post):
    source, old_token = am_source

    response = api_client(org_admin).post(f"{SOURCES}{source.public_id}/rotate/")

    assert response.status_code == 200
    new_token = response.json()["token"]
    assert post("alertmanager", old_token, payloads.alertmanager()).status_code == 404
    assert post("alertmanager", new_token, payloads.alertmanager()).status_code == 202


def test_patch_changes_settings_and_validates_the_mapping(api_client, org_admin, am_source, post):
    source, token = am_source
    url = f"{SOURCES}{source.public_id}/"
    client = api_client(org_admin)

    bad = client.patch(url, {"severity_map": {"critical": "P0"}}, format="json")
    good = client.patch(
        url,
        {"enabled": False, "name": "Renamed", "severity_map": {"Critical": "P2"}, "resolve_policy": "note"},
        format="json",
    )

    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "severity_map.critical"
    assert good.status_code == 200
    assert (good.json()["enabled"], good.json()["name"], good.json()["severity_map"]) == (
        False,
        "Renamed",
        {"critical": "P2"},
    )
    assert good.json()["resolve_policy"] == "note"
    assert post("alertmanager", token, payloads.alertmanager()).status_code == 403


def test_delete_revokes_the_token(api_client, org_admin, am_source, post):
    source, token = am_source
    response = api_client(org_admin).delete(f"{SOURCES}{source.public_id}/")
    assert response.status_code == 200
    assert response.json()["revoked"] is True
    assert post("alertmanager", token, payloads.alertmanager()).status_code == 404


def test_staff_manage_sources_of_any_organization(api_client, engineer, organization):
    response = api_client(engineer).post(SOURCES, {"kind": "datadog", "name": "DD"}, format="json")
    assert response.status_code == 201


# ------------------------------------------------------------------------------------------------- portal pages


def test_the_page_creates_a_source_and_shows_the_config_once(client, org_admin):
    client.force_login(org_admin)

    response = client.post("/o/acme/monitoring/", {"kind": "alertmanager", "name": "Prod", "resolve_policy": "resolve"})

    assert response.status_code == 201
    token = response.context["token"]
    page = response.content.decode()
    assert token in page
    assert "webhook_configs:" in page
    assert f"/api/v1/integrations/alertmanager/{token}/" in page
    source = MonitoringSource.objects.get()
    again = client.get(f"/o/acme/monitoring/{source.public_id}/").content.decode()
    assert token not in again
    assert "webhook_configs:" in again


@pytest.mark.parametrize(
    ("kind", "snippet"),
    [("grafana", "Contact point"), ("datadog", "$ALERT_CYCLE_KEY"), ("pagerduty", "dedup_key")],
)
def test_each_kind_shows_its_sender_config(client, org_admin, organization, make_source, kind, snippet):
    source, _ = make_source(organization, kind=kind)
    client.force_login(org_admin)
    assert snippet.lower() in client.get(f"/o/acme/monitoring/{source.public_id}/").content.decode().lower()


def test_the_list_page_and_nav_link(client, org_admin, am_source):
    client.force_login(org_admin)
    page = client.get("/o/acme/monitoring/").content.decode()
    assert "Production" in page
    assert 'href="/o/acme/monitoring/"' in page


def test_standard_admins_see_no_form_and_are_refused(client, other_member):
    client.force_login(other_member)
    page = client.get("/o/globex/monitoring/")
    assert page.status_code == 200
    assert "part of Premium support" in page.content.decode()
    assert 'href="/o/globex/monitoring/"' not in page.content.decode()
    refused = client.post("/o/globex/monitoring/", {"kind": "grafana", "name": "G", "resolve_policy": "resolve"})
    assert refused.status_code == 403
    assert not MonitoringSource.objects.exists()


def test_members_get_403_on_the_page(client, member):
    client.force_login(member)
    assert client.get("/o/acme/monitoring/").status_code == 403


def test_send_test_alert_disable_and_rotate_from_the_page(client, org_admin, am_source):
    source, token = am_source
    client.force_login(org_admin)
    base = f"/o/acme/monitoring/{source.public_id}/"

    assert client.post(f"{base}test/").status_code == 302
    assert InboundEvent.objects.count() == 1
    client.post(f"{base}state/", {"action": "disable"})
    source.refresh_from_db()
    assert not source.enabled
    rotated = client.post(f"{base}rotate/")
    assert rotated.status_code == 200
    assert rotated.context["token"] != token
    source.refresh_from_db()
    assert source.enabled


def test_settings_form_saves_the_mapping(client, org_admin, am_source):
    source, _ = am_source
    client.force_login(org_admin)
    response = client.post(
        f"/o/acme/monitoring/{source.public_id}/",
        {
            "name": "Prod",
            "resolve_policy": "note",
            "severity_map": '{"critical": "P1", "page": "P1"}',
            "hmac_secret": "",
        },
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.severity_map == {"critical": "P1", "page": "P1"}
    invalid = client.post(
        f"/o/acme/monitoring/{source.public_id}/",
        {"name": "Prod", "resolve_policy": "note", "severity_map": '{"critical": "urgent"}'},
    )
    assert invalid.status_code == 400


def test_deliveries_are_audited_on_the_page_and_staff_replay(client, org_admin, engineer, am_source, post):
    source, token = am_source
    post("alertmanager", token, payloads.alertmanager())
    post("alertmanager", token, {"version": "4", "status": "firing", "alerts": [{"status": "nope"}]})
    client.force_login(org_admin)

    page = client.get(f"/o/acme/monitoring/{source.public_id}/").content.decode()

    assert "Accepted (202)" in page
    assert "Rejected: invalid (400)" in page
    assert "alerts[0].labels" in page
    assert "Replay" not in page
    event = InboundEvent.objects.get()
    assert client.post(f"/o/acme/monitoring/{source.public_id}/events/{event.public_id}/replay/").status_code == 403

    client.force_login(engineer)
    assert "Replay" in client.get(f"/o/acme/monitoring/{source.public_id}/").content.decode()
    assert client.post(f"/o/acme/monitoring/{source.public_id}/events/{event.public_id}/replay/").status_code == 302
    assert InboundEvent.objects.filter(replay_of=event).exists()
    assert Delivery.objects.filter(result="accepted").count() == 2
