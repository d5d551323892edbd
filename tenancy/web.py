"""Tenant resolution for server-rendered pages, mirroring tenancy.api.base for the API."""

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from tenancy.models import Membership, Organization, User
from tenancy.selectors import tenant_resolve_for_page

P = ParamSpec("P")


class TenantRequest(HttpRequest):
    """An HttpRequest after `tenant_view` resolved the organization and the caller's place in it."""

    user: User
    organization: Organization
    membership: Membership | None


def tenant_view(
    view: Callable[Concatenate[TenantRequest, P], HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """Resolve /o/<org_slug>/… to the organization; 404 for anyone who is neither a member nor staff."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, org_slug: str, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        assert isinstance(user, User)
        try:
            organization, membership = tenant_resolve_for_page(user=user, slug=org_slug)
        except Organization.DoesNotExist:
            raise Http404 from None  # 404, not 403: do not reveal other tenants
        request.organization = organization  # type: ignore[attr-defined]
        request.membership = membership  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)  # type: ignore[arg-type]

    return wrapper


def staff_view(view: Callable[Concatenate[TenantRequest, P], HttpResponse]) -> Callable[..., HttpResponse]:
    """Pages for WALT staff only; to anyone else they do not exist."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not getattr(request.user, "is_walt_staff", False):
            raise Http404
        return view(request, *args, **kwargs)  # type: ignore[arg-type]

    return wrapper


def is_org_admin(request: TenantRequest) -> bool:
    return request.user.is_walt_staff or (
        request.membership is not None and request.membership.role == Membership.Role.ADMIN
    )
