from datetime import datetime, timedelta

from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core.exceptions import ApplicationError
from core.tasks import PUBLISH_ONCE
from core.tokens import token_generate, token_hash
from tenancy.models import ApiToken, Contract, Membership, Organization, Package, User, reference_prefix_from_slug
from tenancy.selectors import contract_active
from tenancy.signals import contract_started
from tenancy.tasks import send_due_invitations as send_due_invitations_task

# Enough for every integration a person runs; signing in once more revokes the oldest.
API_TOKENS_PER_USER = 20
# A token's last use is kept to this precision (see api_token_used).
TOKEN_USE_PRECISION = timedelta(hours=1)


@transaction.atomic
def organization_provision(
    *,
    name: str,
    slug: str,
    region: str,
    timezone_name: str,
    package: str,
    provisioned_by: User | None,
    reference_prefix: str = "",
) -> Organization:
    if Organization.objects.filter(slug=slug).exists():
        raise ApplicationError(
            "An organization with this slug already exists.",
            errors=[{"field": "slug", "code": "unique", "detail": "This slug is taken."}],
        )
    if reference_prefix and Organization.objects.filter(reference_prefix=reference_prefix).exists():
        raise ApplicationError(
            "Another organization's tickets already use this reference prefix.",
            errors=[{"field": "reference_prefix", "code": "unique", "detail": "This prefix is taken."}],
        )
    organization = Organization(
        name=name.strip(),
        slug=slug,
        region=region,
        timezone=timezone_name,
        reference_prefix=reference_prefix or _free_reference_prefix(slug),
    )
    organization.full_clean()
    try:
        with transaction.atomic():
            organization.save()
    except IntegrityError as race:  # another request took the slug between the check and the insert
        raise ApplicationError(
            "An organization with this slug already exists.",
            errors=[{"field": "slug", "code": "unique", "detail": "This slug is taken."}],
        ) from race
    contract_start(organization=organization, package=package, effective_from=timezone.now(), created_by=provisioned_by)
    return organization


def _free_reference_prefix(slug: str) -> str:
    base = reference_prefix_from_slug(slug)[:12]
    taken = set(
        Organization.objects.filter(reference_prefix__startswith=base).values_list("reference_prefix", flat=True)
    )
    candidate, suffix = base, 2
    while candidate in taken:
        candidate, suffix = f"{base}-{suffix}", suffix + 1
    return candidate


@transaction.atomic
def contract_start(
    *,
    organization: Organization,
    package: str,
    effective_from: datetime,
    created_by: User | None,
    note: str = "",
) -> Contract:
    """Start a new contract version at `effective_from`, ending the version in force then.

    History is one line without overlaps: a version cannot start before the latest one already scheduled.
    """
    if package not in Package.values:
        raise ApplicationError(
            "Unknown package.", errors=[{"field": "package", "code": "invalid_choice", "detail": package}]
        )
    # Lock the organization's versions so two concurrent changes cannot both leave an open-ended version.
    latest = Contract.objects.for_organization(organization).select_for_update().order_by("-effective_from").first()
    if latest is not None:
        if effective_from <= latest.effective_from:
            raise ApplicationError(
                "A contract version already starts at or after this date.",
                errors=[
                    {
                        "field": "effective_from",
                        "code": "before_latest_version",
                        "detail": f"Choose a moment after {latest.effective_from.isoformat()}.",
                    }
                ],
            )
        latest.effective_to = effective_from
        latest.save(update_fields=["effective_to", "updated_at"])
    previous_package = latest.package if latest is not None else None
    contract = Contract(
        organization=organization,
        package=package,
        effective_from=effective_from,
        created_by=created_by,
        note=note,
    )
    contract.full_clean()
    contract.save()
    contract_started.send(
        sender=Contract, organization=organization, contract=contract, previous_package=previous_package
    )
    return contract


def contract_terms_touch(*, contract: Contract) -> None:
    """Say that terms attached to the contract changed (its SLA overrides, say): what readers derive from a contract
    they may keep under its `terms_revision`, which this moves."""
    Contract.objects.filter(pk=contract.pk).update(terms_revision=F("terms_revision") + 1, updated_at=timezone.now())
    contract.refresh_from_db(fields=["terms_revision", "updated_at"])


def organization_package(*, organization: Organization, at: datetime | None = None) -> str | None:
    contract = contract_active(organization=organization, at=at or timezone.now())
    return contract.package if contract else None


@transaction.atomic
def member_invite(*, organization: Organization, email: str, role: str, invited_by: User) -> Membership:
    """Add a person to an organization. A new user exists at once with an unusable password and receives
    an e-mail invitation to choose one; an existing customer simply gains the membership.

    The invitation is owed in the database with the membership (`tenancy.invitations` sends it); the wake-up queued
    after commit only makes it prompt, so a broker that is down delays the e-mail and never fails the request."""
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email=email).first()
    if user is not None and user.is_walt_staff:
        raise ApplicationError(
            "WALT staff work across every organization and cannot be members of one.",
            errors=[{"field": "email", "code": "staff", "detail": "This address belongs to WALT staff."}],
        )
    if user is None:
        user = User.objects.create_user(email=email)
    if Membership.objects.for_organization(organization).filter(user=user).exists():
        raise ApplicationError(
            "This person is already a member of the organization.",
            errors=[{"field": "email", "code": "unique", "detail": "Already a member."}],
        )
    invitation_owed = not user.has_usable_password()
    membership = Membership(
        organization=organization,
        user=user,
        role=role,
        invited_by=invited_by,
        invitation_due_at=timezone.now() if invitation_owed else None,
    )
    membership.full_clean()
    membership.save()
    if invitation_owed:
        transaction.on_commit(_invitations_wake_up, robust=True)
    return membership


def _invitations_wake_up() -> None:
    # Published once, never retried: while the broker is down, beat's sweep sends the invitation once it is back, so
    # the request that added the member has nothing to wait for.
    send_due_invitations_task.apply_async(retry_policy=PUBLISH_ONCE)


@transaction.atomic
def member_remove(*, membership: Membership, removed_by: User) -> None:
    if membership.role == Membership.Role.ADMIN:
        admins = Membership.objects.for_organization(membership.organization).filter(role=Membership.Role.ADMIN)
        if admins.select_for_update().count() <= 1:
            raise ApplicationError(
                "An organization keeps at least one customer admin; appoint another admin first.",
                errors=[{"field": "role", "code": "last_admin", "detail": "This is the last customer admin."}],
            )
    membership.delete()


def password_set_link_parts(*, user: User) -> tuple[str, str]:
    """The uid and token of a one-time link to choose a password (invitations and resets share it)."""
    return urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)


@transaction.atomic
def api_token_issue(*, user: User) -> str:
    """A new API token for `user`, returned once: only its hash is stored. Past API_TOKENS_PER_USER, the oldest
    tokens are revoked, so that a script which signs in on every run cannot pile up tokens without end."""
    token = token_generate()
    ApiToken.objects.create(user=user, token_hash=token_hash(token), token_hint=token[-4:])
    newest = ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")[:API_TOKENS_PER_USER]
    ApiToken.objects.filter(user=user).exclude(pk__in=newest.values("pk")).delete()
    return token


def api_token_used(*, token: ApiToken, now: datetime) -> None:
    """Record that `token` signed a request in, at most once per TOKEN_USE_PRECISION: a write on every request would
    cost more than a finer time is worth. Conditional, so requests at the same moment write once."""
    if token.last_used_at is not None and now - token.last_used_at < TOKEN_USE_PRECISION:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - TOKEN_USE_PRECISION)
    ).update(last_used_at=now)
    token.last_used_at = now


def api_token_revoke(*, token: ApiToken) -> None:
    token.delete()


def api_token_revoke_all(*, user: User) -> int:
    """Revoke every API token of `user`: after a password change or reset, and when the account is deactivated."""
    revoked, _ = ApiToken.objects.filter(user=user).delete()
    return revoked
