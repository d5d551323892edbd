from datetime import datetime
from typing import Any, NamedTuple

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.exceptions import ApplicationError
from sla.models import PolicyVersion
from sla.policy import effective_policy, validate_overrides
from tenancy.models import Contract, Organization, User
from tenancy.selectors import contract_active
from tenancy.services import contract_terms_touch


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
    version = next((version for version in _versions(organization, contract) if version.created_at <= at), None)
    overrides = version.overrides if version else {}
    return contract, version.number if version else 0, effective_policy(package=contract.package, overrides=overrides)


class _Version(NamedTuple):
    number: int
    created_at: datetime
    overrides: dict[str, Any]


def _versions(organization: Organization, contract: Contract) -> list[_Version]:
    """The contract's override versions, newest first. Versions are never edited and a new one moves the contract's
    `terms_revision`, so a process keeps them under that number: opening a ticket then reads the contract alone."""
    key = (contract.pk, contract.terms_revision)
    versions = _VERSIONS.get(key)
    if versions is None:
        if len(_VERSIONS) >= VERSIONS_KEPT:
            del _VERSIONS[next(iter(_VERSIONS))]  # the oldest entry
        versions = _VERSIONS[key] = [
            _Version(*row)
            for row in PolicyVersion.objects.for_organization(organization)
            .filter(contract=contract)
            .order_by("-number")
            .values_list("number", "created_at", "overrides")
        ]
    return versions


VERSIONS_KEPT = 1024
_VERSIONS: dict[tuple[int, int], list[_Version]] = {}


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
    contract_terms_touch(contract=contract)
    return version
