"""Environment access grants: the only way a WALT engineer may change a Premium customer's systems."""

import re
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.exceptions import ApplicationError
from tenancy.models import AccessGrant, Organization, Package, User
from tenancy.selectors import contract_active

# What a pasted secret looks like: a key block, "password=…", or one long unbroken token.
_SECRET_PATTERNS = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"(password|passwd|secret|token|api[_-]?key)\s*[:=]\s*\S+", re.IGNORECASE),
    re.compile(r"(?<![\w/.-])[A-Za-z0-9+/_=-]{40,}(?![\w/.-])"),
)


def _looks_like_a_secret(text: str) -> bool:
    return any(pattern.search(text) for pattern in _SECRET_PATTERNS)


@transaction.atomic
def access_grant_create(
    *,
    organization: Organization,
    created_by: User,
    scope: str,
    credentials_reference: str,
    valid_from: datetime,
    valid_until: datetime,
) -> AccessGrant:
    contract = contract_active(organization=organization, at=timezone.now())
    if contract is None or contract.package != Package.PREMIUM:
        raise ApplicationError(
            "Access grants are part of Premium support: on Standard, WALT gives guidance and does not change "
            "your environment.",
            status_code=403,
        )
    errors = []
    if valid_until <= valid_from:
        errors.append({"field": "valid_until", "code": "before_start", "detail": "Must be after valid_from."})
    if _looks_like_a_secret(credentials_reference) or _looks_like_a_secret(scope):
        errors.append(
            {
                "field": "credentials_reference",
                "code": "secret",
                "detail": "This looks like a credential. Say where the credentials are shared (for example a vault "
                "path), never the credentials themselves.",
            }
        )
    if errors:
        raise ApplicationError("The access grant was not recorded.", errors=errors)
    grant = AccessGrant(
        organization=organization,
        created_by=created_by,
        scope=scope.strip(),
        credentials_reference=credentials_reference.strip(),
        valid_from=valid_from,
        valid_until=valid_until,
    )
    grant.full_clean()
    grant.save()
    return grant


@transaction.atomic
def access_grant_revoke(*, grant: AccessGrant, revoked_by: User) -> AccessGrant:
    """Revoke a grant now; revoking twice keeps the first revocation."""
    grant = AccessGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.revoked_at is None:
        grant.revoked_at = timezone.now()
        grant.revoked_by = revoked_by
        grant.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    return grant
