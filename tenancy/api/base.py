"""The API bases every endpoint inherits: one resolves the tenant, one admits WALT staff only.

A caller who is neither staff nor a member of the organization in the URL gets 404 with the same body as a
missing object, so the API never confirms that another tenant's organization or objects exist.
"""

from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from core.api import StandardPagination
from tenancy.models import Membership, Organization, User
from tenancy.selectors import tenant_resolve


class IsWaltStaff(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated and getattr(request.user, "is_walt_staff", False))


class StaffApi(APIView):
    """Base for cross-organization endpoints that only WALT staff may call."""

    permission_classes = [IsAuthenticated, IsWaltStaff]
    pagination_class = StandardPagination

    user: User

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        assert isinstance(request.user, User)
        self.user = request.user


class TenantApi(APIView):
    """Base for every endpoint under /api/v1/orgs/<org_slug>/.

    After authentication it sets `organization`, `user` and `membership` (None for WALT staff, who pass for
    every organization). Handlers never see the slug.
    """

    permission_classes = [IsAuthenticated]
    pagination_class = StandardPagination
    # Roles that may use this endpoint at all; staff always may. Narrow it per endpoint.
    member_roles: tuple[str, ...] = (Membership.Role.ADMIN, Membership.Role.MEMBER)

    organization: Organization
    membership: Membership | None
    user: User

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.org_slug = kwargs.pop("org_slug")
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttling
        user = request.user
        assert isinstance(user, User)
        try:
            self.organization, self.membership = tenant_resolve(user=user, slug=self.org_slug)
        except Organization.DoesNotExist:
            raise NotFound from None  # 404, not 403: do not reveal other tenants
        self.user = user
        if not user.is_walt_staff and (self.membership is None or self.membership.role not in self.member_roles):
            raise PermissionDenied("Your role in this organization does not allow this.")

    @property
    def is_org_admin(self) -> bool:
        return self.user.is_walt_staff or (
            self.membership is not None and self.membership.role == Membership.Role.ADMIN
        )
