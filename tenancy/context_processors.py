from typing import Any

from django.http import HttpRequest

from tenancy.models import User
from tenancy.selectors import membership_list_for_user


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the base layout's navigation needs: staff and customers see different menus. A customer's organizations
    come with the memberships that resolved the organization in the URL: no query of their own on those pages."""
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {}
    return {
        "is_walt_staff": user.is_walt_staff,
        "is_support_admin": user.is_support_admin,
        "nav_organizations": []
        if user.is_walt_staff
        else [membership.organization for membership in membership_list_for_user(user=user)],
    }
