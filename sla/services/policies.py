from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.exceptions import ApplicationError
from sla.models import PolicyVersion
from sla.policy import effective_policy, validate_overrides
from tenancy.models import Contract, Organization, User
from tenancy.selectors import contract_active


def policy_in_force(
    *, organization: Organization, at: datetime, contract_now: Contract | None = None
) -> tuple[Contract, int, dict[str, Any]]:
    """The contract, policy version number (0: package defaults) and complete policy for tickets received at `at`.

    A ticket received before the organization's first contract began (an alert held back, say) runs under the
    contract in force now, which is also the one its entitlements were checked against. A caller that already
    read the contract in force now passes it as `contract_now`, which saves the reads when it also covers `at`.
    """
    if contract_now is not None and _covers(contract_now, at):
        contract: Contract | None = contract_now
    else:
        contract = contract_active(organization=organization, at=at) or contract_now
    contract = contract or contract_active(organization=organization, at=timezone.now())
    if contract is None:
        raise ApplicationError(f"{organization.name} has no contract in force, so no SLA applies.")
    version = (
        PolicyVersion.objects.for_organization(organization)
        .filter(contract=contract, created_at__lte=at)
        .order_by("-number")
        .first()
    )
    overrides = version.overrides if version else {}
    return contract, version.number if version else 0, effective_policy(package=contract.package, overrides=overrides)


def _covers(contract: Contract, at: datetime) -> bool:
    return contract.effective_from <= at and (contract.effective_to is None or at < contract.effective_to)


@transaction.atomic
def policy_version_create(
    *, organization: Organization, overrides: Any, created_by: User, reason: str, at: datetime
) -> PolicyVersion:
    """Record a new version of the contract's overrides. It applies to tickets opened from now on; open tickets
    keep their snapshot unless an admin re-baselines them."""
    errors = validate_overrides(overrides)
    if not reason.strip():
        errors.append({"field": "reason", "code": "blank", "detail": "Say why the targets change."})
    if errors:
        raise ApplicationError("The SLA overrides were not saved.", errors=errors)
    contract = contract_active(organization=organization, at=at)
    if contract is None:
        raise ApplicationError(f"{organization.name} has no contract in force.")
    # The organization's versions are numbered in one sequence; the lock makes concurrent edits take turns.
    Organization.objects.select_for_update().get(pk=organization.pk)
    latest = PolicyVersion.objects.for_organization(organization).aggregate(latest=Max("number"))["latest"] or 0
    version = PolicyVersion(
        organization=organization,
        contract=contract,
        number=latest + 1,
        overrides=overrides,
        created_by=created_by,
        reason=reason.strip(),
    )
    version.save()
    return version
