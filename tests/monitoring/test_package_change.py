from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring.models import MonitoringSource
from monitoring.services import monitoring_system_user
from tenancy.models import Package
from tenancy.selectors import staff_list, staff_on_duty_list
from tenancy.services import contract_start

pytestmark = pytest.mark.django_db


def test_a_downgrade_to_standard_disables_the_sources_without_deleting_them(organization, am_source):
    source, _token = am_source

    contract_start(organization=organization, package=Package.STANDARD, effective_from=timezone.now(), created_by=None)

    assert MonitoringSource.objects.get(pk=source.pk).enabled is False


def test_a_downgrade_scheduled_for_later_leaves_the_sources_until_it_is_in_force(organization, am_source):
    source, _token = am_source

    contract_start(
        organization=organization,
        package=Package.STANDARD,
        effective_from=timezone.now() + timedelta(days=7),
        created_by=None,
    )

    assert MonitoringSource.objects.get(pk=source.pk).enabled is True


def test_the_monitoring_identity_is_never_on_duty_nor_assignable(engineer):
    system = monitoring_system_user()

    assert system not in staff_on_duty_list()
    assert system not in staff_list()
    assert list(staff_on_duty_list()) == [engineer]
