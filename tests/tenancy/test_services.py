from datetime import UTC, datetime, timedelta

import pytest

from core.exceptions import ApplicationError
from tenancy.models import Contract, Package
from tenancy.selectors import contract_active, staff_on_duty_list
from tenancy.services import contract_start
from tests.factories import OrganizationFactory, StaffFactory

pytestmark = pytest.mark.django_db

JAN = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_new_contract_version_ends_the_one_in_force_and_keeps_history():
    organization = OrganizationFactory.create()
    standard = contract_start(organization=organization, package=Package.STANDARD, effective_from=JAN, created_by=None)

    premium = contract_start(
        organization=organization, package=Package.PREMIUM, effective_from=JAN + timedelta(days=40), created_by=None
    )

    standard.refresh_from_db()
    assert standard.effective_to == premium.effective_from
    assert contract_active(organization=organization, at=JAN + timedelta(days=39)) == standard
    assert contract_active(organization=organization, at=JAN + timedelta(days=40)) == premium
    assert Contract.objects.for_organization(organization).count() == 2


def test_a_version_cannot_start_before_the_latest_one():
    organization = OrganizationFactory.create()
    contract_start(organization=organization, package=Package.STANDARD, effective_from=JAN, created_by=None)

    with pytest.raises(ApplicationError):
        contract_start(
            organization=organization, package=Package.PREMIUM, effective_from=JAN - timedelta(days=1), created_by=None
        )


def test_no_contract_is_in_force_before_the_first_version():
    organization = OrganizationFactory.create()
    contract_start(organization=organization, package=Package.STANDARD, effective_from=JAN, created_by=None)

    assert contract_active(organization=organization, at=JAN - timedelta(seconds=1)) is None


def test_when_nobody_is_on_duty_every_active_engineer_is():
    first, second = StaffFactory.create(), StaffFactory.create()
    StaffFactory.create(is_active=False)

    assert set(staff_on_duty_list()) == {first, second}

    second.on_duty = True
    second.save()
    assert list(staff_on_duty_list()) == [second]
