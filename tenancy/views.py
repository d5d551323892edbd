from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from tenancy.models import User
from tenancy.selectors import (
    contract_active,
    contract_history,
    membership_list,
    organization_list_for_user,
    organization_list_with_package,
)
from tenancy.web import TenantRequest, is_org_admin, staff_view, tenant_view


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if user.is_walt_staff:
        return redirect("staff-organizations")
    organizations = list(organization_list_for_user(user=user))
    if len(organizations) == 1:
        return redirect("organization-overview", org_slug=organizations[0].slug)
    return render(request, "tenancy/home.html", {"organizations": organizations})


@tenant_view
def organization_overview(request: TenantRequest) -> HttpResponse:
    organization = request.organization
    now = timezone.now()
    context = {
        "organization": organization,
        "contract": contract_active(organization=organization, at=now),
        "contracts": contract_history(organization=organization),
        "memberships": membership_list(organization=organization) if is_org_admin(request) else None,
        "is_org_admin": is_org_admin(request),
    }
    return render(request, "tenancy/organization_overview.html", context)


@staff_view
def staff_organization_list(request: TenantRequest) -> HttpResponse:
    organizations = organization_list_with_package(user=request.user, at=timezone.now())
    return render(request, "tenancy/staff_organization_list.html", {"organizations": organizations})
