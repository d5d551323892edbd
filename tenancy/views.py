import zoneinfo
from datetime import datetime
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.exceptions import ApplicationError
from tenancy.access_grants import access_grant_create, access_grant_revoke
from tenancy.forms import AccessGrantForm, MemberInviteForm
from tenancy.models import AccessGrant, Membership, Package, User
from tenancy.selectors import (
    access_grant_get,
    access_grant_list,
    contract_active,
    contract_history,
    membership_get,
    membership_list,
    organization_list_for_user,
    organization_list_with_package,
)
from tenancy.services import member_invite, member_remove, organization_package
from tenancy.web import TenantRequest, is_org_admin, staff_view, tenant_view


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if user.is_walt_staff:
        return redirect("queue")  # engineers work the cross-organization queue all day
    organizations = list(organization_list_for_user(user=user))
    if len(organizations) == 1:
        return redirect("organization-overview", org_slug=organizations[0].slug)
    return render(request, "tenancy/home.html", {"organizations": organizations})


@tenant_view
@require_safe
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
@require_safe
def staff_organization_list(request: TenantRequest) -> HttpResponse:
    organizations = organization_list_with_package(user=request.user, at=timezone.now())
    return render(request, "tenancy/staff_organization_list.html", {"organizations": organizations})


def _require_org_admin(request: TenantRequest) -> None:
    # Members know the organization exists, so their answer is 403, as in the API.
    if not is_org_admin(request):
        raise PermissionDenied("Only the organization's admins and WALT staff manage this.")


@tenant_view
@require_http_methods(["GET", "HEAD", "POST"])
def member_list_page(request: TenantRequest) -> HttpResponse:
    _require_org_admin(request)
    organization = request.organization
    form = MemberInviteForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            try:
                membership = member_invite(
                    organization=organization,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    invited_by=request.user,
                )
            except ApplicationError as error:
                form.add_application_error(error)
                status = error.status_code
            else:
                invited = "" if membership.user.has_usable_password() else " An invitation e-mail is on its way."
                messages.success(request, f"{membership.user.email} is now a member of {organization.name}.{invited}")
                return redirect("member-list", org_slug=organization.slug)
    return _render_members(request, form=form, status=status)


def _render_members(
    request: TenantRequest, *, form: MemberInviteForm, status: int = 200, problem: str = ""
) -> HttpResponse:
    context = {
        "organization": request.organization,
        "memberships": membership_list(organization=request.organization),
        "form": form,
        "problem": problem,
    }
    return render(request, "tenancy/member_list.html", context, status=status)


@tenant_view
@require_POST
def member_remove_page(request: TenantRequest, member_id: UUID) -> HttpResponse:
    _require_org_admin(request)
    try:
        membership = membership_get(organization=request.organization, public_id=member_id)
    except Membership.DoesNotExist:
        raise Http404 from None
    try:
        member_remove(membership=membership, removed_by=request.user)
    except ApplicationError as error:
        return _render_members(request, form=MemberInviteForm(), status=error.status_code, problem=error.message)
    messages.success(request, f"{membership.user.email} is no longer a member of {request.organization.name}.")
    return redirect("member-list", org_slug=request.organization.slug)


def _grant_state(grant: AccessGrant, now: datetime) -> str:
    if grant.revoked_at is not None:
        return "revoked"
    if now >= grant.valid_until:
        return "expired"
    return "active" if now >= grant.valid_from else "scheduled"


@tenant_view
@require_http_methods(["GET", "HEAD", "POST"])
def access_grant_list_page(request: TenantRequest) -> HttpResponse:
    """Customer admins record and revoke grants; staff read them (they never grant themselves access)."""
    _require_org_admin(request)
    organization = request.organization
    if request.method == "POST" and request.user.is_walt_staff:
        raise PermissionDenied("Access is granted by the customer's admins, not by WALT staff.")
    zone = zoneinfo.ZoneInfo(organization.timezone)
    form = AccessGrantForm(request.POST if request.method == "POST" else None, zone=zone)
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                access_grant_create(
                    organization=organization,
                    created_by=request.user,
                    scope=data["scope"],
                    credentials_reference=data["credentials_reference"],
                    valid_from=data["valid_from"],
                    valid_until=data["valid_until"],
                )
            except ApplicationError as error:
                form.add_application_error(error)
                status = error.status_code
            else:
                messages.success(request, "Access grant recorded. WALT engineers may work under it while it is valid.")
                return redirect("access-grant-list", org_slug=organization.slug)
    return _render_grants(request, form=form, status=status)


def _render_grants(request: TenantRequest, *, form: AccessGrantForm, status: int = 200) -> HttpResponse:
    organization = request.organization
    now = timezone.now()
    context = {
        "organization": organization,
        "is_premium": organization_package(organization=organization, at=now) == Package.PREMIUM,
        "may_manage": not request.user.is_walt_staff,
        "grants": [(grant, _grant_state(grant, now)) for grant in access_grant_list(organization=organization)],
        "form": form,
    }
    return render(request, "tenancy/access_grant_list.html", context, status=status)


@tenant_view
@require_POST
def access_grant_revoke_page(request: TenantRequest, grant_id: UUID) -> HttpResponse:
    _require_org_admin(request)
    try:
        grant = access_grant_get(organization=request.organization, public_id=grant_id)
    except AccessGrant.DoesNotExist:
        raise Http404 from None
    if request.user.is_walt_staff:
        raise PermissionDenied("Grants are revoked by the customer's admins.")
    access_grant_revoke(grant=grant, revoked_by=request.user)
    messages.success(request, "Access grant revoked: WALT engineers can no longer record changes under it.")
    return redirect("access-grant-list", org_slug=request.organization.slug)
