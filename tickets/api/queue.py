"""The engineers' queue over the API: open work of every organization, and take-next. WALT staff only."""

from typing import Any, NoReturn

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import StandardPagination, paginated_response
from core.exceptions import ApplicationError
from core.output import OutputSerializer, iso_moment
from tenancy.api.base import StaffApi
from tenancy.models import Organization, Package, Region
from tenancy.selectors import organization_get_for_user
from tenancy.timezones import viewer_timezone
from tickets.api.serializers import PersonOutputSerializer, TicketOutputSerializer
from tickets.models import OPEN_STATUSES, Priority, Ticket, TicketType
from tickets.queue import (
    CLOCKS,
    COUNT_CAP,
    AssigneeFilter,
    QueueFilters,
    QueuePaginator,
    Sort,
    SourceFilter,
    View,
    clock_cell,
    queue_list,
    queue_ticket_get,
)
from tickets.queue_counts import QueueCounts, queue_counts_recent, queue_day_start
from tickets.services import ticket_take_next


class QueueOrganizationOutputSerializer(serializers.Serializer[dict[str, Any]]):
    slug = serializers.SlugField()
    name = serializers.CharField()
    region = serializers.CharField()
    package = serializers.CharField(allow_null=True, help_text="The package in force now.")


class QueueClockOutputSerializer(serializers.Serializer[dict[str, Any]]):
    state = serializers.CharField(help_text="The SLA clock's state: running, paused, met, breached (empty: no clock).")
    queue_state = serializers.ChoiceField(
        choices=["ok", "warning", "breached", "paused", "met", "late", "none"],
        help_text="How the queue colours it: warning in the last quarter of the window from received_at to due_at; "
        "breached once due_at has passed; late: met after its deadline.",
    )
    due_at = serializers.DateTimeField(allow_null=True)
    warn_at = serializers.DateTimeField(allow_null=True)
    remaining_seconds = serializers.IntegerField(
        allow_null=True, help_text="Open time left: negative once late; kept while paused."
    )


class QueueClocksOutputSerializer(serializers.Serializer[dict[str, Any]]):
    first_response = QueueClockOutputSerializer()
    resolution = QueueClockOutputSerializer()


class QueueRowOutputSerializer(OutputSerializer[Ticket]):
    id = serializers.UUIDField(source="public_id")
    reference = serializers.CharField()
    organization = serializers.SerializerMethodField()
    subject = serializers.CharField()
    type = serializers.CharField()
    priority = serializers.CharField()
    status = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # the API field is named "source"
    guidance_only = serializers.BooleanField()
    assignee = PersonOutputSerializer(allow_null=True)
    received_at = serializers.DateTimeField()
    last_activity_at = serializers.DateTimeField()
    age_seconds = serializers.SerializerMethodField()
    next_due_at = serializers.DateTimeField(source="sla_next_due_at", allow_null=True)
    clocks = serializers.SerializerMethodField()

    @extend_schema_field(QueueOrganizationOutputSerializer)
    def get_organization(self, ticket: Ticket) -> dict[str, Any]:
        organization = ticket.organization
        return {
            "slug": organization.slug,
            "name": organization.name,
            "region": organization.region,
            "package": getattr(ticket, "package", None),  # annotated by queue_list
        }

    def get_age_seconds(self, ticket: Ticket) -> int:
        return int((timezone.now() - ticket.received_at).total_seconds())

    @extend_schema_field(QueueClocksOutputSerializer)
    def get_clocks(self, ticket: Ticket) -> dict[str, Any]:
        # Plain values, not a nested serializer per row: a page of 50 rows would build 100 of them.
        now, zone = timezone.now(), timezone.get_current_timezone()
        clocks = {}
        for kind in CLOCKS:
            cell = clock_cell(ticket, kind, now=now)
            remaining = (
                (cell.due_at - now).total_seconds() if cell.counts_down and cell.due_at else cell.remaining_seconds
            )
            clocks[kind] = {
                "state": getattr(ticket, f"sla_{kind}_state"),
                "queue_state": cell.state,
                "due_at": iso_moment(cell.due_at, zone) if cell.due_at else None,
                "warn_at": iso_moment(cell.warn_at, zone) if cell.warn_at else None,
                "remaining_seconds": None if remaining is None else int(remaining),
            }
        return clocks


class QueuePagination(StandardPagination):
    django_paginator_class = QueuePaginator

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["count"]["description"] = (
            f"How many tickets match, counted up to {COUNT_CAP}: the pages hold the first {COUNT_CAP}; narrow the "
            "filters for the rest."
        )
        return paginated


class QueueApi(StaffApi):
    """The queue spans every organization: a customer learns nothing of it, as of another tenant's data (404)."""

    pagination_class = QueuePagination

    def permission_denied(self, request: Request, message: str | None = None, code: str | None = None) -> NoReturn:
        if request.user and request.user.is_authenticated:
            raise NotFound
        super().permission_denied(request, message, code)


class QueueListApi(QueueApi):
    """Open work (new, open, waiting on customer) of every organization: by priority (P1 first), then time received
    (oldest first), unless `sort` or the at-risk view says otherwise."""

    class FilterSerializer(serializers.Serializer[dict[str, Any]]):
        view = serializers.ChoiceField(
            choices=View.choices,
            required=False,
            help_text="at_risk: warned or breached, soonest deadline first; breached: a deadline still to be met "
            "has passed.",
        )
        organization = serializers.SlugField(required=False, help_text="An organization's slug.")
        package = serializers.ChoiceField(choices=Package.choices, required=False, help_text="The package in force.")
        region = serializers.ChoiceField(choices=Region.choices, required=False)
        priority = serializers.ChoiceField(choices=Priority.choices, required=False)
        type = serializers.ChoiceField(choices=TicketType.choices, required=False)
        status = serializers.ChoiceField(choices=[(s.value, s.label) for s in OPEN_STATUSES], required=False)
        assignee = serializers.ChoiceField(choices=AssigneeFilter.choices, required=False, help_text="Default anyone.")
        source = serializers.ChoiceField(  # type: ignore[assignment]  # the filter is named "source"
            choices=SourceFilter.choices, required=False, help_text="portal: filed by people (portal or API)."
        )
        sort = serializers.ChoiceField(
            choices=Sort.choices,
            required=False,
            help_text="due: soonest running deadline first; updated: last activity first. Default: priority, then "
            "time received (the at-risk view: soonest deadline first).",
        )

        def validate_organization(self, slug: str) -> Organization:
            try:
                return organization_get_for_user(user=self.context["user"], slug=slug)
            except Organization.DoesNotExist:
                raise serializers.ValidationError("No organization has this slug.", code="does_not_exist") from None

    @extend_schema(
        parameters=[FilterSerializer, OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: QueueRowOutputSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params, context={"user": self.user})
        filters.is_valid(raise_exception=True)
        tickets = queue_list(user=self.user, filters=QueueFilters(**filters.validated_data), now=timezone.now())
        return paginated_response(
            queryset=tickets, serializer_class=QueueRowOutputSerializer, request=request, view=self
        )


class QueueCountsOutputSerializer(serializers.Serializer[QueueCounts]):
    total = serializers.IntegerField(help_text="Open tickets.")
    by_priority = serializers.DictField(child=serializers.IntegerField())
    at_risk = serializers.IntegerField()
    breached = serializers.IntegerField()
    unassigned = serializers.IntegerField()
    first_response_met = serializers.IntegerField(help_text="First responses given today that met their deadline.")
    first_response_breached = serializers.IntegerField()
    first_response_compliance = serializers.FloatField(allow_null=True, help_text="met / (met + breached), today.")
    resolution_met = serializers.IntegerField(help_text="Tickets resolved today within their deadline.")
    resolution_breached = serializers.IntegerField()
    resolution_compliance = serializers.FloatField(allow_null=True)
    since = serializers.SerializerMethodField(help_text="Today's start in the caller's timezone (UTC by default).")

    def get_since(self, counts: QueueCounts) -> str:
        return str(self.context["since"].isoformat())


class QueueCountsApi(QueueApi):
    """The whole queue at a glance, and today's compliance: of the clocks stopped today, the share that met."""

    @extend_schema(responses={200: QueueCountsOutputSerializer})
    def get(self, request: Request) -> Response:
        now = timezone.now()
        since = queue_day_start(now=now, zone=viewer_timezone(user=self.user, organization=None))
        counts = queue_counts_recent(now=now, day_start=since)
        return Response(QueueCountsOutputSerializer(counts, context={"since": since}).data)


class QueueTakeNextApi(QueueApi):
    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        skip = serializers.UUIDField(
            required=False,
            allow_null=True,
            help_text="Pass over this ticket (the head, or the one you just took: it goes back to the queue).",
        )
        reason = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=2000, help_text="Required with skip; recorded."
        )

    @extend_schema(
        request=InputSerializer,
        responses={200: TicketOutputSerializer},
        examples=[
            OpenApiExample("Take the head of the queue", value={}, request_only=True),
            OpenApiExample(
                "Skip the head",
                value={"skip": "6f1c1f4e-3f0a-4a8e-9a57-3a8f8f6c2b11", "reason": "Needs the database specialist."},
                request_only=True,
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        """Assign yourself the head of the queue: the highest-priority, oldest unassigned open ticket. Two engineers
        taking at once get different tickets; 409 when every open ticket has an engineer."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ticket = ticket_take_next(engineer=self.user, skip=self._skipped(data.get("skip")), reason=data["reason"])
        return Response(TicketOutputSerializer(ticket).data)

    def _skipped(self, public_id: Any) -> Ticket | None:
        if public_id is None:
            return None
        try:
            return queue_ticket_get(user=self.user, public_id=public_id)
        except Ticket.DoesNotExist:
            raise ApplicationError(
                "No such ticket.", errors=[{"field": "skip", "code": "does_not_exist", "detail": "No such ticket."}]
            ) from None
