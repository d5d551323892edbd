from typing import Any

from django.utils import timezone

from monitoring.services import monitoring_sources_disable_for
from tenancy.models import Contract, Organization, Package


def on_contract_started(
    sender: type[Contract], *, organization: Organization, contract: Contract, **kwargs: Any
) -> None:
    # A downgrade to Standard disables (never deletes) the sources once it is in force; until then the intake keeps
    # answering from the package in force at each delivery.
    if contract.package == Package.STANDARD and contract.effective_from <= timezone.now():
        monitoring_sources_disable_for(organization=organization)
