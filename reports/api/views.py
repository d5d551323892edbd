from typing import Any, NoReturn
from uuid import UUID

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from reports.api.examples import BREACH_LIST_EXAMPLE, EXCLUSION_EXAMPLE, OVERVIEW_EXAMPLE, REPORT_EXAMPLE
from reports.api.serializers import (
    BreachSerializer,
    ExclusionChangeSerializer,
    OverviewRowSerializer,
    SlaReportSerializer,
    serialized_list,
)
from reports.exports import (
    BATCH,
    breach_csv_rows,
    breach_link_prefix,
    csv_rows,
    report_csv_rows,
    report_filename,
    streamed_csv,
)
from reports.models import ExclusionCategory
from reports.periods import ReportPeriod, local_today, month_parse, period_parse
from reports.selectors import (
    breach_exclusion_change_list,
    breach_get,
    breach_list,
    compliance_overview_list,
    sla_report_get,
)
from reports.services import breach_exclude, breach_reinstate
from sla.models import Record
from tenancy.api.base import StaffApi, TenantApi
from tenancy.selectors import organization_list_for_user

PERIOD_PARAMETERS = [
    OpenApiParameter("month", str, description="A whole month, YYYY-MM. Or give `from` and `to` instead."),
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (YYYY-MM-DD), in the organization's timezone."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included; at most 13 months after `from`."),
]
CSV_RESPONSE = (200, "text/csv")


class CsvRenderer(BaseRenderer):
    """Lets `Accept: text/csv` through content negotiation; the views stream their CSV themselves."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return "".join(csv_rows(report_csv_rows(data))).encode()


class ReportApi(TenantApi):
    """Base of the report endpoints: JSON, or CSV with `Accept: text/csv`; errors always in JSON."""

    renderer_classes = [JSONRenderer, CsvRenderer]

    def period(self, request: Request) -> ReportPeriod:
        zone = self.organization.timezone
        return period_parse(request.query_params, timezone=zone, today=local_today(timezone=zone, now=timezone.now()))

    def wants_csv(self, request: Request) -> bool:
        return request.accepted_renderer.format == CsvRenderer.format

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(response, Response) and response.status_code >= 400:  # noqa: PLR2004 (client and server errors)
            # A CSV cannot say which field was wrong: errors keep the API's JSON shape whatever was asked for.
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


class SlaReportApi(ReportApi):
    """The organization's SLA compliance figures for a month or a range of days (default: this month so far).

    Members read their own organization's; WALT staff any. With `Accept: text/csv` the same figures come as CSV,
    one per row, named by their path in the JSON (`first_response.share_met`).
    """

    @extend_schema(
        parameters=PERIOD_PARAMETERS,
        responses={200: SlaReportSerializer, CSV_RESPONSE: OpenApiTypes.STR},
        examples=[
            OpenApiExample("March 2026", value=REPORT_EXAMPLE, response_only=True, media_type="application/json")
        ],
    )
    def get(self, request: Request) -> Any:
        period = self.period(request)
        report = sla_report_get(organization=self.organization, period=period, now=timezone.now())
        document = SlaReportSerializer(report).data
        if self.wants_csv(request):
            return streamed_csv(
                report_csv_rows(document), filename=report_filename(self.organization, period, "report")
            )
        return Response(document)


class SlaBreachListApi(ReportApi):
    """The breaches of the period's clocks, by deadline, each with its ticket, lateness and exclusion.

    With `Accept: text/csv` the whole list streams as CSV instead of a page of JSON.
    """

    @extend_schema(
        parameters=[*PERIOD_PARAMETERS, OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: BreachSerializer(many=True), CSV_RESPONSE: OpenApiTypes.STR},
        examples=[
            OpenApiExample(
                "A late resolution", value=BREACH_LIST_EXAMPLE, response_only=True, media_type="application/json"
            )
        ],
    )
    def get(self, request: Request) -> Any:
        period = self.period(request)
        records = breach_list(organization=self.organization, period=period)
        now = timezone.now()
        link_prefix = breach_link_prefix(organization=self.organization, absolute=request.build_absolute_uri("/"))
        if self.wants_csv(request):
            return streamed_csv(
                breach_csv_rows(records.iterator(chunk_size=BATCH), link_prefix=link_prefix, now=now),
                filename=report_filename(self.organization, period, "breaches"),
            )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(records, request, view=self)
        return paginator.get_paginated_response(
            serialized_list(BreachSerializer, page or [], link_prefix=link_prefix, now=now)
        )


class BreachExclusionApi(ReportApi):
    """WALT staff exclude a breach from the compliance figures, or count it again; every decision is kept.

    The breach is named by its ticket, clock (`first_response` or `resolution`) and epoch. To customers this
    endpoint does not exist (404); they read each breach's exclusion, category and reason in the breach list.
    """

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        excluded = serializers.BooleanField(default=True, help_text="false counts an excluded breach again.")
        category = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            max_length=32,
            help_text=f"Needed to exclude: one of {', '.join(ExclusionCategory.values)}.",
        )
        reason = serializers.CharField(
            required=False, allow_blank=True, default="", help_text="Always needed; the customer reads it."
        )

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not self.user.is_walt_staff:
            raise NotFound  # customers see exclusions in their breach list; this endpoint is not theirs

    def breach(self, ticket_id: UUID, clock: str, epoch: int) -> Record:
        try:
            return breach_get(organization=self.organization, ticket_id=ticket_id, clock_kind=clock, epoch=epoch)
        except Record.DoesNotExist:
            raise NotFound from None

    def answer(self, request: Request, record: Record) -> Response:
        context = {
            "link_prefix": breach_link_prefix(organization=self.organization, absolute=request.build_absolute_uri("/")),
            "now": timezone.now(),
        }
        return Response(
            {
                "breach": BreachSerializer(record, context=context).data,
                "history": serialized_list(
                    ExclusionChangeSerializer,
                    breach_exclusion_change_list(organization=self.organization, record=record),
                ),
            }
        )

    @extend_schema(responses={200: inline_serializer("BreachExclusion", {"breach": BreachSerializer()})})
    def get(self, request: Request, ticket_id: UUID, clock: str, epoch: int) -> Response:
        return self.answer(request, self.breach(ticket_id, clock, epoch))

    @extend_schema(
        request=InputSerializer,
        responses={200: inline_serializer("BreachExclusionDecided", {"breach": BreachSerializer()})},
        examples=[
            OpenApiExample("Exclude", value=EXCLUSION_EXAMPLE, request_only=True),
            OpenApiExample(
                "Count again",
                value={"excluded": False, "reason": "The customer's delay was ours after all."},
                request_only=True,
            ),
        ],
    )
    def post(self, request: Request, ticket_id: UUID, clock: str, epoch: int) -> Response:
        record = self.breach(ticket_id, clock, epoch)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["excluded"]:
            breach_exclude(
                record=record, actor=self.user, category=data["category"], reason=data["reason"], now=timezone.now()
            )
        else:
            breach_reinstate(record=record, actor=self.user, reason=data["reason"], now=timezone.now())
        return self.answer(request, self.breach(ticket_id, clock, epoch))


class SlaOverviewApi(StaffApi):
    """Every organization's compliance for a month (default: this month), worst first; each organization's month
    runs in its own timezone."""

    def permission_denied(self, request: Request, message: str | None = None, code: str | None = None) -> NoReturn:
        if request.user and request.user.is_authenticated:
            raise NotFound  # to customers the staff overview does not exist, as in the browser
        super().permission_denied(request, message, code)

    @extend_schema(
        parameters=[PERIOD_PARAMETERS[0]],
        responses={
            200: inline_serializer(
                "SlaOverview",
                {"month": serializers.CharField(), "organizations": OverviewRowSerializer(many=True)},
            )
        },
        examples=[OpenApiExample("March 2026", value=OVERVIEW_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        period = month_parse(request.query_params, timezone="UTC", today=timezone.now().date())
        rows = compliance_overview_list(
            organizations=organization_list_for_user(user=self.user), month=period.first_day
        )
        return Response({"month": period.month, "organizations": serialized_list(OverviewRowSerializer, rows)})
