"""Monitoring pages: a Premium organization's sources, each with its sender configuration and delivery audit."""

import json
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import ApplicationError
from monitoring.forms import SourceCreateForm, SourceSettingsForm
from monitoring.models import InboundEvent, MonitoringSource
from monitoring.selectors import alert_group_list, delivery_list, inbound_event_get, is_premium, source_get, source_list
from monitoring.senders import PLACEHOLDER, sender_config
from monitoring.services import (
    ACCEPTED,
    inbound_event_replay,
    monitoring_source_create,
    monitoring_source_revoke,
    monitoring_source_rotate,
    monitoring_source_update,
    monitoring_test_alert,
)
from tenancy.web import TenantRequest, is_org_admin, tenant_view

DELIVERIES_SHOWN = 50
ALERTS_SHOWN = 50


def _require_org_admin(request: TenantRequest) -> None:
    # Members know the organization exists, so their answer is 403, as in the API.
    if not is_org_admin(request):
        raise PermissionDenied("Only the organization's admins and WALT staff manage monitoring sources.")


def _source(request: TenantRequest, source_id: UUID) -> MonitoringSource:
    try:
        return source_get(organization=request.organization, public_id=source_id)
    except MonitoringSource.DoesNotExist:
        raise Http404 from None


def _intake_url(request: TenantRequest, source: MonitoringSource, token: str | None) -> str:
    return request.build_absolute_uri(
        reverse("monitoring-api:intake", kwargs={"kind": source.kind, "token": token or "TOKEN"})
    ).replace("TOKEN", token or PLACEHOLDER)


@tenant_view
@require_http_methods(["GET", "HEAD", "POST"])
def source_list_page(request: TenantRequest) -> HttpResponse:
    _require_org_admin(request)
    organization = request.organization
    form = SourceCreateForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                source, token = monitoring_source_create(
                    organization=organization,
                    kind=data["kind"],
                    name=data["name"],
                    resolve_policy=data["resolve_policy"],
                )
            except ApplicationError as error:
                form.add_application_error(error)
                status = error.status_code
            else:
                # The token is shown on this answer only; the portal keeps its hash.
                return _render_source(request, source, token=token, status=201)
    context = {
        "organization": organization,
        "sources": source_list(organization=organization),
        "is_premium": is_premium(organization=organization, at=timezone.now()),
        "form": form,
    }
    return render(request, "monitoring/source_list.html", context, status=status)


def _render_source(
    request: TenantRequest,
    source: MonitoringSource,
    *,
    token: str | None = None,
    form: SourceSettingsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    organization = request.organization
    title, config = sender_config(
        kind=source.kind, intake_url=_intake_url(request, source, token), signed=bool(source.hmac_secret)
    )
    if form is None:
        form = SourceSettingsForm(
            initial={
                "name": source.name,
                "resolve_policy": source.resolve_policy,
                "severity_map": json.dumps(source.severity_map, indent=2),
            }
        )
    context = {
        "organization": organization,
        "source": source,
        "token": token,
        "config_title": title,
        "config": config,
        "form": form,
        "deliveries": delivery_list(organization=organization, source=source)[:DELIVERIES_SHOWN],
        "alerts": alert_group_list(organization=organization, source=source)[:ALERTS_SHOWN],
        "may_replay": request.user.is_walt_staff,
    }
    return render(request, "monitoring/source_detail.html", context, status=status)


@tenant_view
@require_http_methods(["GET", "HEAD", "POST"])
def source_detail_page(request: TenantRequest, source_id: UUID) -> HttpResponse:
    _require_org_admin(request)
    source = _source(request, source_id)
    if request.method != "POST":
        return _render_source(request, source)
    form = SourceSettingsForm(request.POST)
    if not form.is_valid():
        return _render_source(request, source, form=form, status=400)
    data = form.cleaned_data
    secret = "" if data["clear_hmac_secret"] else (data["hmac_secret"] or None)
    try:
        monitoring_source_update(
            source=source,
            name=data["name"],
            resolve_policy=data["resolve_policy"],
            severity_map=data["severity_map"],
            hmac_secret=secret,
        )
    except ApplicationError as error:
        form.add_application_error(error)
        return _render_source(request, source, form=form, status=error.status_code)
    messages.success(request, "Settings saved.")
    return redirect("monitoring-source", org_slug=request.organization.slug, source_id=source.public_id)


@tenant_view
@require_POST
def source_rotate_page(request: TenantRequest, source_id: UUID) -> HttpResponse:
    _require_org_admin(request)
    try:
        source, token = monitoring_source_rotate(source=_source(request, source_id))
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("monitoring-source", org_slug=request.organization.slug, source_id=source_id)
    return _render_source(request, source, token=token)


@tenant_view
@require_POST
def source_toggle_page(request: TenantRequest, source_id: UUID) -> HttpResponse:
    """Disable an enabled source or enable a disabled one; "revoke" also forgets the token."""
    _require_org_admin(request)
    source = _source(request, source_id)
    action = request.POST.get("action", "")
    try:
        if action == "revoke":
            monitoring_source_revoke(source=source)
            messages.success(request, "Token revoked and source disabled. Rotate the token to use it again.")
        else:
            monitoring_source_update(source=source, enabled=action == "enable")
            messages.success(request, "Source enabled." if action == "enable" else "Source disabled.")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("monitoring-source", org_slug=request.organization.slug, source_id=source.public_id)


@tenant_view
@require_POST
def source_test_page(request: TenantRequest, source_id: UUID) -> HttpResponse:
    _require_org_admin(request)
    source = _source(request, source_id)
    result = monitoring_test_alert(source=source)
    if result.status_code == ACCEPTED:
        messages.success(request, "Test alert accepted; it opens a P4 ticket once processed.")
    else:
        messages.error(request, f"Test alert refused ({result.status_code}): {result.body.get('message', '')}")
    return redirect("monitoring-source", org_slug=request.organization.slug, source_id=source.public_id)


@tenant_view
@require_POST
def event_replay_page(request: TenantRequest, source_id: UUID, event_id: UUID) -> HttpResponse:
    if not request.user.is_walt_staff:
        raise PermissionDenied("Only WALT staff replay events.")
    source = _source(request, source_id)
    try:
        event = inbound_event_get(organization=request.organization, public_id=event_id)
    except InboundEvent.DoesNotExist:
        raise Http404 from None
    if event.source_id != source.pk:
        raise Http404
    inbound_event_replay(event=event, replayed_by=request.user)
    messages.success(request, "Event replayed: it is processed again as a new delivery.")
    return redirect("monitoring-source", org_slug=request.organization.slug, source_id=source.public_id)
