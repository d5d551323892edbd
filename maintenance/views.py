"""Maintenance pages: the customer's upcoming windows and notices, the calendar feed, and the staff calendar."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.exceptions import ApplicationError
from maintenance.forms import NoticeForm, OccurrenceCancelForm, OneOffWindowForm
from maintenance.ical import calendar_ics
from maintenance.models import CalendarFeed, Notice
from maintenance.selectors import (
    Occurrence,
    calendar_feed_by_token,
    maintenance_calendar,
    maintenance_windows_overlapping,
    notice_get,
    notice_get_for,
    notice_list,
    notice_list_between,
    notice_list_for,
    occurrence_get,
    region_organization_counts,
)
from maintenance.services import (
    calendar_feed_ensure,
    calendar_feed_rotate,
    notice_create,
    notice_dismiss,
    notice_publish,
    notice_send_update,
    notice_update,
    occurrence_cancel,
    one_off_window_create,
)
from tenancy.models import Region
from tenancy.selectors import organization_list_for_user
from tenancy.timezones import viewer_timezone
from tenancy.web import TenantRequest, is_org_admin, staff_view, tenant_view

CUSTOMER_DAYS = 14
CALENDAR_DAYS = 14
NOTICE_CHOICE_DAYS = 60  # a notice may be written for any window in the next two months


def _by_occurrence(notices: list[Notice]) -> dict[str, list[Notice]]:
    grouped: dict[str, list[Notice]] = defaultdict(list)
    for notice in notices:
        grouped[notice.occurrence_key].append(notice)
    return grouped


@tenant_view
@require_safe
def maintenance_page(request: TenantRequest) -> HttpResponse:
    organization = request.organization
    now = timezone.now()
    notices = notice_list_for(organization=organization, now=now)
    by_occurrence = _by_occurrence(notices)
    windows = [
        (occurrence, by_occurrence.get(occurrence.key, []))
        for occurrence in maintenance_windows_overlapping(
            organization=organization, start=now, end=now + timedelta(days=CUSTOMER_DAYS)
        )
    ]
    feed = calendar_feed_ensure(organization=organization)
    context = {
        "organization": organization,
        "windows": windows,
        "notices": notices,
        "days": CUSTOMER_DAYS,
        "zone": viewer_timezone(user=request.user, organization=organization),
        "feed_url": request.build_absolute_uri(reverse("maintenance-calendar-feed", kwargs={"token": feed.token})),
        "may_rotate": is_org_admin(request),
    }
    return render(request, "maintenance/maintenance_page.html", context)


@tenant_view
@require_POST
def calendar_feed_rotate_page(request: TenantRequest) -> HttpResponse:
    if not is_org_admin(request):
        raise PermissionDenied("Only the organization's admins rotate the calendar link.")
    calendar_feed_rotate(organization=request.organization, rotated_by=request.user)
    messages.success(request, "The calendar link is new: calendars subscribed to the old link no longer receive it.")
    return redirect("maintenance-page", org_slug=request.organization.slug)


@tenant_view
@require_POST
def notice_dismiss_page(request: TenantRequest, notice_id: UUID) -> HttpResponse:
    try:
        notice = notice_get_for(organization=request.organization, public_id=notice_id)
    except Notice.DoesNotExist:
        raise Http404 from None  # another organization's notice is as missing as one that never existed
    notice_dismiss(notice=notice, user=request.user, now=timezone.now())
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect("maintenance-page", org_slug=request.organization.slug)


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The subscribable feed. The secret in the URL is its only credential, since calendar apps send no cookies; an
    unknown or rotated secret is simply not found."""
    try:
        feed = calendar_feed_by_token(token=token)
    except CalendarFeed.DoesNotExist:
        raise Http404 from None
    organization = feed.organization
    portal_url = request.build_absolute_uri(reverse("maintenance-page", kwargs={"org_slug": organization.slug}))
    response = HttpResponse(
        calendar_ics(organization=organization, now=timezone.now(), portal_url=portal_url),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'inline; filename="walt-maintenance-{organization.slug}.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


@dataclass(frozen=True)
class CalendarEntry:
    occurrence: Occurrence
    notices: list[Notice]
    affected: str
    is_past: bool


def _require_support_admin(request: TenantRequest) -> None:
    # Engineers read the calendar; support admins run windows and notices.
    if not request.user.is_support_admin:
        raise PermissionDenied("Only support admins manage maintenance windows and notices.")


def _staff_zone(request: TenantRequest) -> tzinfo:
    return viewer_timezone(user=request.user, organization=None)


@staff_view
@require_safe
def staff_calendar(request: TenantRequest) -> HttpResponse:
    now = timezone.now()
    first_day = now.astimezone(UTC).date()
    start = datetime.combine(first_day, time(0), tzinfo=UTC)
    end = start + timedelta(days=CALENDAR_DAYS)
    by_occurrence = _by_occurrence(list(notice_list_between(start=start, end=end)))
    counts = region_organization_counts()
    columns = [*Region.values, ""]  # each region, then windows for named organizations
    cells: dict[tuple[date, str], list[CalendarEntry]] = defaultdict(list)
    for occurrence in maintenance_calendar(start=start, end=end):
        day = max(occurrence.starts_at, start).astimezone(UTC).date()
        count = counts.get(occurrence.region, 0)
        affected = (
            f"all {count} {occurrence.region} organization{'' if count == 1 else 's'}"
            if occurrence.region
            else ", ".join(organization.name for organization in occurrence.organizations)
        )
        cells[(day, occurrence.region)].append(
            CalendarEntry(occurrence, by_occurrence.get(occurrence.key, []), affected, occurrence.ends_at <= now)
        )
    days = [
        (day, [cells.get((day, column), []) for column in columns])
        for day in (first_day + timedelta(days=offset) for offset in range(CALENDAR_DAYS))
    ]
    context = {
        "regions": Region.choices,
        "days": days,
        "notices": notice_list(upcoming_after=now),
        "may_manage": request.user.is_support_admin,
    }
    return render(request, "maintenance/staff_calendar.html", context)


@staff_view
@require_http_methods(["GET", "HEAD", "POST"])
def staff_window_new(request: TenantRequest) -> HttpResponse:
    _require_support_admin(request)
    form = OneOffWindowForm(
        request.POST if request.method == "POST" else None,
        organizations=organization_list_for_user(user=request.user),
        zone=_staff_zone(request),
    )
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                window = one_off_window_create(
                    title=data["title"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    region=data["region"],
                    organizations=list(data["organizations"]),
                    created_by=request.user,
                )
            except ApplicationError as error:
                form.add_application_error(error)
                status = error.status_code
            else:
                messages.success(request, f"“{window.title}” is scheduled. Write a notice so customers hear of it.")
                return redirect(f"{reverse('maintenance-staff-notice-new')}?occurrence={window.public_id}")
    return render(request, "maintenance/staff_window_form.html", {"form": form}, status=status)


@staff_view
@require_http_methods(["GET", "HEAD", "POST"])
def staff_occurrence_cancel(request: TenantRequest) -> HttpResponse:
    _require_support_admin(request)
    key = request.POST.get("occurrence") or request.GET.get("occurrence", "")
    try:
        occurrence = occurrence_get(key=key)
    except LookupError:
        raise Http404 from None
    concerned = [
        notice
        for notice in notice_list_between(start=occurrence.starts_at, end=occurrence.ends_at)
        if notice.occurrence_key == occurrence.key
    ]
    form = OccurrenceCancelForm(request.POST if request.method == "POST" else None, initial={"occurrence": key})
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            try:
                occurrence_cancel(
                    key=key, reason=form.cleaned_data["reason"], cancelled_by=request.user, now=timezone.now()
                )
            except ApplicationError as error:
                form.add_application_error(error)
                status = error.status_code
            else:
                follow_up = (
                    f" {len(concerned)} notice(s) concern it: edit them and send an update." if concerned else ""
                )
                messages.success(request, f"The window “{occurrence.title}” is cancelled.{follow_up}")
                return redirect("maintenance-staff-calendar")
    context = {"form": form, "occurrence": occurrence, "notices": concerned}
    return render(request, "maintenance/staff_occurrence_cancel.html", context, status=status)


def _notice_form(request: TenantRequest, *, notice: Notice | None) -> NoticeForm:
    now = timezone.now()
    occurrences = [
        occurrence
        for occurrence in maintenance_calendar(start=now, end=now + timedelta(days=NOTICE_CHOICE_DAYS))
        if not occurrence.cancelled
    ]
    initial: dict[str, Any] = {"occurrence": request.GET.get("occurrence", "")}
    if notice is not None:
        if notice.occurrence_key not in {occurrence.key for occurrence in occurrences}:
            occurrences.insert(0, occurrence_get(key=notice.occurrence_key))  # past or cancelled, still its own
        initial = {
            "title": notice.title,
            "body": notice.body,
            "severity": notice.severity,
            "occurrence": notice.occurrence_key,
            "regions": notice.regions,
            "organizations": list(notice.organizations.all()),
            "lead_hours": int(notice.lead_time.total_seconds() // 3600),
        }
    return NoticeForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        occurrences=occurrences,
        organizations=organization_list_for_user(user=request.user),
        zone=_staff_zone(request),
    )


@staff_view
@require_http_methods(["GET", "HEAD", "POST"])
def staff_notice_new(request: TenantRequest) -> HttpResponse:
    _require_support_admin(request)
    form = _notice_form(request, notice=None)
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            publish = request.POST.get("action") == "publish"
            try:
                notice = notice_create(
                    title=data["title"],
                    body=data["body"],
                    severity=data["severity"],
                    occurrence_key=data["occurrence"],
                    regions=data["regions"],
                    organizations=list(data["organizations"]),
                    lead_time=form.lead_time,
                    created_by=request.user,
                    publish=publish,
                    now=timezone.now(),
                )
            except ApplicationError as error:
                form.add_application_error(error)
                status = error.status_code
            else:
                messages.success(request, _published_message(notice) if publish else "The notice is saved as a draft.")
                return redirect("maintenance-staff-calendar")
    return render(request, "maintenance/staff_notice_form.html", {"form": form, "notice": None}, status=status)


def _published_message(notice: Notice) -> str:
    return (
        f"The notice is published. Customers see its banner and are e-mailed from "
        f"{notice.announce_at:%Y-%m-%d %H:%M} UTC (or within a minute, if that has passed)."
    )


@staff_view
@require_http_methods(["GET", "HEAD", "POST"])
def staff_notice_edit(request: TenantRequest, notice_id: UUID) -> HttpResponse:
    _require_support_admin(request)
    try:
        notice = notice_get(public_id=notice_id)
    except Notice.DoesNotExist:
        raise Http404 from None
    form = _notice_form(request, notice=notice)
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            action = request.POST.get("action", "save")
            now = timezone.now()
            try:
                notice_update(
                    notice=notice,
                    title=data["title"],
                    body=data["body"],
                    severity=data["severity"],
                    occurrence_key=data["occurrence"],
                    regions=data["regions"],
                    organizations=list(data["organizations"]),
                    lead_time=form.lead_time,
                )
                message = _saved_message(notice)
                if action == "publish":
                    notice_publish(notice=notice, now=now)
                    message = _published_message(notice)
                elif action == "send_update":
                    sent = notice_send_update(notice=notice, now=now)
                    message = (
                        "Saved, and the update is on its way to every member of the affected organizations."
                        if sent
                        else "Saved. The announcement has not gone out yet; it will carry these changes."
                    )
            except ApplicationError as error:
                form.add_application_error(error)
                status = error.status_code
            else:
                messages.success(request, message)
                return redirect("maintenance-staff-notice-edit", notice_id=notice.public_id)
    return render(request, "maintenance/staff_notice_form.html", {"form": form, "notice": notice}, status=status)


def _saved_message(notice: Notice) -> str:
    if notice.status == Notice.Status.PUBLISHED and notice.announced_at is not None:
        return (
            "Saved. Customers see the new text in the portal; nobody was e-mailed. Use “Save and send update” to "
            "e-mail them the change."
        )
    return "Saved."
