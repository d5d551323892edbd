"""Tenancy: the same fingerprint in two organizations is two alerts; a token never reaches another tenant."""

import pytest

from monitoring.models import AlertGroup, InboundEvent
from tests.monitoring import payloads
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_the_same_fingerprint_in_two_organizations_opens_two_tickets(organization, premium_eu, make_source, deliver):
    _, acme_token = make_source(organization)
    _, initech_token = make_source(premium_eu)

    deliver("alertmanager", acme_token, payloads.alertmanager())
    deliver("alertmanager", initech_token, payloads.alertmanager())

    assert sorted(Ticket.objects.values_list("organization__slug", flat=True)) == ["acme", "initech"]
    assert AlertGroup.objects.filter(open=True).count() == 2


def test_the_same_fingerprint_from_two_sources_of_one_organization_is_two_alerts(organization, make_source, deliver):
    _, first = make_source(organization, name="Prometheus EU")
    _, second = make_source(organization, name="Prometheus US")

    deliver("alertmanager", first, payloads.alertmanager())
    deliver("alertmanager", second, payloads.alertmanager())

    assert Ticket.objects.count() == 2


def test_a_token_only_reaches_its_own_organization(organization, premium_eu, make_source, deliver):
    _, acme_token = make_source(organization)
    initech_source, _ = make_source(premium_eu)
    # Payload labels that claim another tenant change nothing: the token decides.
    body = payloads.alertmanager(payloads.am_alert(organization="initech", tenant="initech"))

    event = deliver("alertmanager", acme_token, body)

    assert event.organization == organization
    assert Ticket.objects.get().organization == organization
    assert not InboundEvent.objects.filter(source=initech_source).exists()


def test_the_source_api_hides_other_tenants_sources(organization, premium_eu, make_source, api_client, org_admin):
    initech_source, _ = make_source(premium_eu)
    client = api_client(org_admin)

    assert client.get(f"/api/v1/orgs/acme/monitoring/sources/{initech_source.public_id}/").status_code == 404
    assert client.get("/api/v1/orgs/initech/monitoring/sources/").status_code == 404
    assert client.post(f"/api/v1/orgs/acme/monitoring/sources/{initech_source.public_id}/rotate/").status_code == 404
