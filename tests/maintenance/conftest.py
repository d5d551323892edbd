import importlib
from datetime import UTC, datetime

import pytest
from django.apps import apps

from maintenance.models import RecurringWindow
from tenancy.models import Membership, Organization, Region
from tests.factories import MembershipFactory, OrganizationFactory

# The data migration that seeds the SLA's windows; tests call it because a flushed test database loses seeded rows.
seed_migration = importlib.import_module("maintenance.migrations.0002_seed_region_windows")


@pytest.fixture(autouse=True)
def seeded_windows(db) -> dict[str, RecurringWindow]:
    seed_migration.seed_region_windows(apps, None)
    return {window.region: window for window in RecurringWindow.objects.all()}


@pytest.fixture
def new_york(db) -> Organization:
    """A US organization in a timezone with DST (2026: EST until 8 March, EDT until 1 November)."""
    return OrganizationFactory.create(name="Initech", slug="initech", region=Region.US, timezone="America/New_York")


@pytest.fixture
def berlin(db) -> Organization:
    """An EU organization in a timezone with DST (2026: CET until 29 March, CEST until 25 October)."""
    return OrganizationFactory.create(name="Hooli GmbH", slug="hooli", region=Region.EU, timezone="Europe/Berlin")


@pytest.fixture
def members(new_york, berlin):
    """Two members of each organization, an admin first."""

    def make(organization: Organization):
        return [
            MembershipFactory.create(organization=organization, role=role).user
            for role in (Membership.Role.ADMIN, Membership.Role.MEMBER)
        ]

    return {"initech": make(new_york), "hooli": make(berlin)}


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
