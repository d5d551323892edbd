import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.urls import reverse

from monitoring.models import Kind
from monitoring.services import inbound_event_process, monitoring_source_create
from tenancy.models import Organization, Package, Region
from tests.factories import ContractFactory, MembershipFactory, OrganizationFactory

QUIET_NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # outside the US (06–07) and EU (01–02) windows


@pytest.fixture(autouse=True)
def _outside_maintenance(time_machine):
    # Processing asks whether the organization is in maintenance at receipt: keep the clock away from the windows.
    time_machine.move_to(QUIET_NOON, tick=True)


@pytest.fixture
def premium_eu(db) -> Organization:
    organization = OrganizationFactory.create(name="Initech SE", slug="initech", region=Region.EU)
    ContractFactory.create(organization=organization, package=Package.PREMIUM)
    MembershipFactory.create(organization=organization, role="admin")
    return organization


@pytest.fixture
def make_source():
    def make(organization, kind=Kind.ALERTMANAGER, name="Production", **options):
        return monitoring_source_create(organization=organization, kind=kind, name=name, **options)

    return make


@pytest.fixture
def am_source(organization, make_source):
    """Acme (Premium, US) has an Alertmanager source; the token is returned beside it."""
    return make_source(organization)


def intake_url(kind: str, token: str) -> str:
    return reverse("monitoring-api:intake", kwargs={"kind": kind, "token": token})


@pytest.fixture
def post(client):
    def send(kind, token, body, **extra):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return client.post(intake_url(kind, token), data=data, content_type="application/json", **extra)

    return send


@pytest.fixture
def deliver(post):
    """Post a body and run its processing at once, as the worker would."""

    def send(kind, token, body, **extra):
        response = post(kind, token, body, **extra)
        assert response.status_code == 202, response.content
        from monitoring.models import InboundEvent

        event = InboundEvent.objects.get(public_id=response.json()["event_id"])
        return inbound_event_process(event_id=event.pk) or event

    return send


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
