from dataclasses import dataclass
from typing import Any

from django import template

from tenancy.models import Membership, Organization, Package, User
from tenancy.selectors import membership_get_for_user

register = template.Library()


@dataclass(frozen=True)
class OrganizationNav:
    organization: Organization
    is_admin: bool
    is_premium: bool


@register.simple_tag(takes_context=True)
def organization_nav(context: template.Context) -> OrganizationNav | None:
    """The customer's current organization for the header links: the one in the URL, else their only one."""
    request: Any = context.get("request")
    user = getattr(request, "user", None)
    if not isinstance(user, User) or user.is_walt_staff:
        return None
    organization = getattr(request, "organization", None)
    membership = getattr(request, "membership", None)
    if organization is None:
        organizations = context.get("nav_organizations") or []
        if len(organizations) != 1:
            return None
        organization = organizations[0]
        membership = membership_get_for_user(user=user, organization=organization)
    if membership is None:
        return None
    # Both ways, the membership is one of `membership_list_for_user`, which carries the package in force.
    package = getattr(membership, "package", None)
    return OrganizationNav(
        organization=organization,
        is_admin=membership.role == Membership.Role.ADMIN,
        is_premium=package == Package.PREMIUM,
    )
