from typing import Any

from django.http import HttpRequest

from tenancy.models import User
from tenancy.selectors import organization_list_for_user


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the base layout's navigation needs: staff and customers see different menus."""
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {}
    return {
        "is_walt_staff": user.is_walt_staff,
        "is_support_admin": user.is_support_admin,
        "nav_organizations": [] if user.is_walt_staff else list(organization_list_for_user(user=user)),
    }
