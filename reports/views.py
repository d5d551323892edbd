"""The SLA report pages: an organization's report (members and staff), its CSV exports, the staff's exclusion of a
breach, and the staff overview of every organization's month. Every page works without JavaScript."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_safe

from core.exceptions import ApplicationError
from reports import charts
from reports.api.serializers import SlaReportSerializer
from reports.breaches import exclusion_of, late_seconds
from reports.exports import (
    BATCH,
    breach_csv_rows,
    breach_link_prefix,
    report_csv_rows,
    report_filename,
    streamed_csv,
)
from reports.figures import SlaReport
from reports.forms import EXCLUDE, ExclusionForm
from reports.models import BreachExclusion, ExclusionCategory
from reports.periods import MAX_MONTHS, ReportPeriod, local_today, month_parse, period_parse
from reports.selectors import (
    breach_exclusion_change_list,
    breach_get,
    breach_list,
    compliance_overview_list,
    sla_report_get,
)
from reports.services import breach_exclude, breach_reinstate
from sla.models import ClockKind, Record
from tenancy.selectors import organization_list_for_user
from tenancy.web import TenantRequest, staff_view, tenant_view
from tickets.models import Priority, TicketType

BREACHES_PER_PAGE = 50


@dataclass(frozen=True)
class BreachRow:
    record: Record
    late: float
    exclusion: BreachExclusion | None


def _field_errors(error: ApplicationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for item in error.errors:
        errors.setdefault(str(item.get("field", "")), []).append(str(item.get("detail", "")))
    return errors


def _period(request: TenantRequest) -> ReportPeriod:
    zone = request.organization.timezone
    return period_parse(request.GET, timezone=zone, today=local_today(timezone=zone, now=timezone.now()))


def _refused(request: TenantRequest, error: ApplicationError) -> HttpResponse:
    """The report page with only its period forms and every problem beside its field."""
    context = {
        "organization": request.organization,
        "message": error.message,
        "errors": _field_errors(error),
        "values": {name: request.GET.get(name, "") for name in ("month", "from", "to")},
        "max_months": MAX_MONTHS,
    }
    return render(request, "reports/sla_report.html", context, status=error.status_code)


@tenant_view
@require_safe
def sla_report_page(request: TenantRequest) -> HttpResponse:
    try:
        period = _period(request)
    except ApplicationError as error:
        return _refused(request, error)
    organization, now = request.organization, timezone.now()
    report = sla_report_get(organization=organization, period=period, now=now)
    page = Paginator(breach_list(organization=organization, period=period), BREACHES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "organization": organization,
        "report": report,
        "period": period,
        "values": {"month": period.month if period.is_month else "", **_range_values(period)},
        "max_months": MAX_MONTHS,
        "compliance": [_compliance_section(report, kind) for kind in ClockKind.values],
        "distributions": [_distribution_section(report, kind) for kind in ClockKind.values],
        "breaches_chart": charts.render(charts.breaches_chart(report)),
        "breaches_by_priority": [
            (priority, *(report.clocks[kind].breaches_by_priority[priority] for kind in ClockKind.values))
            for priority in Priority.values
        ],
        "received_by_type": [(TicketType(kind).label, n) for kind, n in report.received_by_type.items()],
        "categories": ExclusionCategory.choices,
        "page": page,
        "rows": [BreachRow(record, late_seconds(record, now=now), exclusion_of(record)) for record in page],
        "is_staff": request.user.is_walt_staff,
        "query": period.query(),
        "here": request.get_full_path(),
    }
    return render(request, "reports/sla_report.html", context)


def _compliance_section(report: SlaReport, kind: str) -> dict[str, Any]:
    return {
        "label": ClockKind(kind).label,
        "svg": charts.render(charts.compliance_chart(report, kind)),
        "rows": [(f"{month.month:%B %Y}", month.of(kind)) for month in report.history],
    }


def _distribution_section(report: SlaReport, kind: str) -> dict[str, Any]:
    distribution = report.distributions[kind]
    return {
        "label": ClockKind(kind).label,
        "svg": charts.render(charts.distribution_chart(report, kind)),
        "in_minutes": distribution.single_target is not None,
        "rows": [
            (charts.bin_label(distribution, index), item.count, item.high is None or item.high > 1)
            for index, item in enumerate(distribution.bins)
        ],
    }


def _range_values(period: ReportPeriod) -> dict[str, str]:
    return {"from": period.first_day.isoformat(), "to": period.last_day.isoformat()}


@tenant_view
@require_safe
def sla_report_csv(request: TenantRequest) -> HttpResponse | StreamingHttpResponse:
    try:
        period = _period(request)
    except ApplicationError as error:
        return _refused(request, error)
    report = sla_report_get(organization=request.organization, period=period, now=timezone.now())
    document = SlaReportSerializer(report).data
    return streamed_csv(report_csv_rows(document), filename=report_filename(request.organization, period, "report"))


@tenant_view
@require_safe
def sla_breaches_csv(request: TenantRequest) -> HttpResponse | StreamingHttpResponse:
    try:
        period = _period(request)
    except ApplicationError as error:
        return _refused(request, error)
    organization = request.organization
    records = breach_list(organization=organization, period=period).iterator(chunk_size=BATCH)
    link_prefix = breach_link_prefix(organization=organization, absolute=request.build_absolute_uri("/"))
    return streamed_csv(
        breach_csv_rows(records, link_prefix=link_prefix, now=timezone.now()),
        filename=report_filename(organization, period, "breaches"),
    )


def _back(request: TenantRequest) -> str:
    """Where to return after a decision: the report page it was made on, never another site."""
    report = reverse("report-sla", kwargs={"org_slug": request.organization.slug})
    back = request.POST.get("back") or request.GET.get("back") or ""
    safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return back if safe and back.startswith(report) else report


@tenant_view
@staff_view  # customers read exclusions in their report; deciding them is not theirs: the page does not exist for them
@require_http_methods(["GET", "HEAD", "POST"])
def breach_exclusion_page(request: TenantRequest, ticket_id: UUID, clock: str, epoch: int) -> HttpResponse:
    organization = request.organization
    try:
        record = breach_get(organization=organization, ticket_id=ticket_id, clock_kind=clock, epoch=epoch)
    except Record.DoesNotExist:
        raise Http404 from None
    exclusion = exclusion_of(record)
    initial = {"action": "reinstate" if exclusion is not None and exclusion.excluded else EXCLUDE}
    form = ExclusionForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                _decide(record, request, data, now=timezone.now())
            except ApplicationError as error:
                form.add_application_error(error)
                status = error.status_code
            else:
                return redirect(_back(request))
    context = {
        "organization": organization,
        "record": record,
        "exclusion": exclusion,
        "late": late_seconds(record, now=timezone.now()),
        "history": breach_exclusion_change_list(organization=organization, record=record),
        "form": form,
        "back": _back(request),
    }
    return render(request, "reports/breach_exclusion.html", context, status=status)


def _decide(record: Record, request: TenantRequest, data: dict[str, Any], *, now: datetime) -> None:
    reference = f"{record.ticket.reference} ({record.get_clock_kind_display().lower()})"
    if data["action"] == EXCLUDE:
        breach_exclude(record=record, actor=request.user, category=data["category"], reason=data["reason"], now=now)
        messages.success(request, f"The breach of {reference} is excluded from the figures after exclusions.")
    else:
        breach_reinstate(record=record, actor=request.user, reason=data["reason"], now=now)
        messages.success(request, f"The breach of {reference} counts again.")


@staff_view
@require_safe
def sla_overview_page(request: TenantRequest) -> HttpResponse:
    try:
        period = month_parse(request.GET, timezone="UTC", today=timezone.now().date())
    except ApplicationError as error:
        refusal = {"message": error.message, "errors": _field_errors(error), "month": request.GET.get("month", "")}
        return render(request, "reports/sla_overview.html", refusal, status=error.status_code)
    rows = compliance_overview_list(organizations=organization_list_for_user(user=request.user), month=period.first_day)
    context: dict[str, Any] = {"rows": rows, "period": period, "month": period.month}
    return render(request, "reports/sla_overview.html", context)
