from datetime import datetime
from uuid import UUID

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from core.tokens import token_hash
from tenancy.models import AccessGrant, ApiToken, Contract, Membership, Organization, User


def organization_list_for_user(*, user: User) -> QuerySet[Organization]:
    """Staff see every organization; a customer sees the organizations they are a member of."""
    organizations = Organization.objects.order_by("name")
    if user.is_walt_staff:
        return organizations
    return organizations.filter(pk__in=Membership.objects.filter(user=user).values("organization_id"))


def organization_get_for_user(*, user: User, slug: str) -> Organization:
    # Raises Organization.DoesNotExist for unknown and for foreign slugs alike: callers answer 404 to both.
    return organization_list_for_user(user=user).get(slug=slug)


def tenant_resolve(*, user: User, slug: str) -> tuple[Organization, Membership | None]:
    """The organization named by a URL slug and the caller's membership in it (None for WALT staff), in one query.

    Raises Organization.DoesNotExist for unknown and for foreign slugs alike: callers answer 404 to both.
    """
    if user.is_walt_staff:
        return Organization.objects.get(slug=slug), None
    membership = Membership.objects.select_related("organization").filter(user=user, organization__slug=slug).first()
    if membership is None:
        raise Organization.DoesNotExist(f"{user} is not a member of an organization {slug!r}")
    _memberships_seen(user)[membership.organization_id] = membership
    return membership.organization, membership


def tenant_resolve_for_page(*, user: User, slug: str) -> tuple[Organization, Membership | None]:
    """`tenant_resolve` for a page, whose header lists the customer's organizations: all of the memberships are read
    in the same query (`membership_list_for_user` then reuses them). An API call needs only the one."""
    if user.is_walt_staff:
        return Organization.objects.get(slug=slug), None
    membership = next((each for each in _membership_list_read(user) if each.organization.slug == slug), None)
    if membership is None:
        raise Organization.DoesNotExist(f"{user} is not a member of an organization {slug!r}")
    return membership.organization, membership


def membership_list_for_user(*, user: User) -> list[Membership]:
    """A customer's memberships with their organizations, by organization name, each annotated with `package` (of the
    contract in force when read), as `tenant_resolve` last read them for this user object, else read now: the
    organization in the URL, the header's list of organizations and its links cost one query together. Like
    `membership_get_for_user`, it cannot go stale in a way that matters: a user object lives for one request or one
    task.
    """
    memberships: list[Membership] | None = getattr(user, "_membership_list", None)
    return _membership_list_read(user) if memberships is None else memberships


def _membership_list_read(user: User) -> list[Membership]:
    memberships: list[Membership] = list(
        Membership.objects.filter(user=user)
        .select_related("organization")
        .annotate(package=package_in_force(organization=OuterRef("organization"), at=timezone.now()))
        .order_by("organization__name")
    )
    user._membership_list = memberships  # type: ignore[attr-defined]
    _memberships_seen(user).update((each.organization_id, each) for each in memberships)
    return memberships


def membership_get_for_user(*, user: User, organization: Organization) -> Membership | None:
    """The user's membership of the organization, asked once per user object.

    A user object lives for one request or one task, so the answer cannot go stale in a way that matters, and the
    services that check participation again after the view did (opening a ticket, replying) cost no query.
    """
    seen = _memberships_seen(user)
    if organization.pk not in seen:
        seen[organization.pk] = Membership.objects.for_organization(organization).filter(user=user).first()
    return seen[organization.pk]


def _memberships_seen(user: User) -> dict[int, Membership | None]:
    seen: dict[int, Membership | None] | None = getattr(user, "_memberships_seen", None)
    if seen is None:
        seen = {}
        user._memberships_seen = seen  # type: ignore[attr-defined]
    return seen


def membership_list(*, organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.for_organization(organization).select_related("user").order_by("user__email")


def membership_get(*, organization: Organization, public_id: UUID) -> Membership:
    return membership_list(organization=organization).get(public_id=public_id)


def contract_active(*, organization: Organization, at: datetime) -> Contract | None:
    return (
        Contract.objects.for_organization(organization)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=at), effective_from__lte=at)
        .order_by("-effective_from")
        .first()
    )


def contract_latest(*, organization: Organization) -> Contract | None:
    return Contract.objects.for_organization(organization).order_by("-effective_from").first()


def contract_history(*, organization: Organization) -> QuerySet[Contract]:
    return Contract.objects.for_organization(organization).select_related("created_by").order_by("-effective_from")


def staff_on_duty_list() -> QuerySet[User]:
    """Engineers who receive new-ticket notices: those on duty, or every active engineer when nobody is."""
    engineers = User.objects.filter(
        is_active=True, is_service_account=False, staff_role=User.StaffRole.SUPPORT_ENGINEER
    )
    anyone_on_duty = Exists(engineers.filter(on_duty=True))
    # One query: the on-duty engineers, or all of them when the subquery finds nobody on duty.
    return engineers.filter(Q(on_duty=True) | ~anyone_on_duty)


def support_admin_list() -> QuerySet[User]:
    return User.objects.filter(is_active=True).filter(Q(staff_role=User.StaffRole.SUPPORT_ADMIN) | Q(is_superuser=True))


def package_in_force(*, organization: OuterRef, at: datetime) -> Subquery:
    """The package of the contract in force at `at` for the organization `organization` refers to, as a subquery:
    lists annotate it in their one query instead of asking per row."""
    in_force = (
        Contract.objects.filter(organization=organization, effective_from__lte=at)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=at))
        .order_by("-effective_from")
        .values("package")[:1]
    )
    return Subquery(in_force)


def organization_list_with_package(*, user: User, at: datetime) -> QuerySet[Organization]:
    """The organizations a user may see, each annotated with `package`: the package in force at `at`."""
    return organization_list_for_user(user=user).annotate(package=package_in_force(organization=OuterRef("pk"), at=at))


def access_grant_list(*, organization: Organization) -> QuerySet[AccessGrant]:
    return AccessGrant.objects.for_organization(organization).select_related("created_by", "revoked_by")


def access_grant_get(*, organization: Organization, public_id: UUID) -> AccessGrant:
    return access_grant_list(organization=organization).get(public_id=public_id)


def access_grant_active_list(*, organization: Organization, at: datetime) -> QuerySet[AccessGrant]:
    return access_grant_list(organization=organization).filter(
        revoked_at__isnull=True, valid_from__lte=at, valid_until__gt=at
    )


def staff_list() -> QuerySet[User]:
    """WALT engineers and admins who can be assigned tickets."""
    people = User.objects.filter(is_active=True, is_service_account=False)
    return people.exclude(staff_role=User.StaffRole.NONE).order_by("full_name", "email")


def staff_get(*, public_id: UUID) -> User:
    return staff_list().get(public_id=public_id)


def api_token_get(*, token: str) -> ApiToken:
    """The stored token that `token` hashes to, with its user, in one indexed query. Raises ApiToken.DoesNotExist.

    Looking the hash up is safe against timing: an attacker who learns how much of a stored hash their guess shares
    cannot steer the next guess, since SHA-256 hides which token has a given hash prefix.
    """
    return ApiToken.objects.select_related("user").get(token_hash=token_hash(token))
