"""The SLA report as JSON. The CSV export flattens exactly this document, so both always hold the same figures."""

from collections.abc import Iterable
from typing import Any, TypeVar

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from reports.breaches import exclusion_of, late_seconds
from reports.figures import (
    Aim,
    Distribution,
    DistributionBin,
    MonthCompliance,
    OverviewRow,
    PauseFigures,
    PolicySpan,
    SlaReport,
    Tally,
)
from reports.models import BreachExclusion, BreachExclusionChange
from reports.periods import ReportPeriod
from sla.models import Record
from tenancy.models import Organization
from tickets.models import Priority, TicketType

T = TypeVar("T")

SHARE_HELP = "met ÷ (met + breached): every breach counts. Null when nothing was decided."
AFTER_EXCLUSIONS_HELP = "met ÷ (met + breached - excluded): excluded breaches leave the count altogether."


class OrganizationSummarySerializer(serializers.Serializer[Organization]):
    slug = serializers.SlugField()
    name = serializers.CharField()
    timezone = serializers.CharField()


class PeriodSerializer(serializers.Serializer[ReportPeriod]):
    # "from" is a Python keyword: the field is declared through the class namespace.
    locals()["from"] = serializers.DateField(source="first_day", help_text="First day, in the organization's timezone.")
    to = serializers.DateField(source="last_day", help_text="Last day, included.")
    timezone = serializers.CharField(help_text="The organization's timezone: days run midnight to midnight in it.")
    starts_at = serializers.DateTimeField(help_text="The period's first instant, UTC.")
    ends_at = serializers.DateTimeField(help_text="The first instant after the period, UTC.")
    label = serializers.CharField()  # type: ignore[assignment]  # the API field is named "label"


class TallySerializer(serializers.Serializer[Tally]):
    met = serializers.IntegerField()
    breached = serializers.IntegerField(help_text="Excluded breaches included.")
    excluded = serializers.IntegerField(help_text="Breaches WALT excluded, with a reason.")
    share_met = serializers.FloatField(allow_null=True, help_text=SHARE_HELP)
    share_met_after_exclusions = serializers.FloatField(allow_null=True, help_text=AFTER_EXCLUSIONS_HELP)


class ClockFiguresSerializer(TallySerializer):
    clocks = serializers.IntegerField(help_text="Clocks that started in the period (a reopening starts one more).")
    open = serializers.IntegerField(help_text="Still running or paused: neither met nor breached yet.")
    reopened = serializers.IntegerField(help_text="Resolution clocks started by reopening a ticket.")
    stopped = serializers.IntegerField(help_text="Clocks answered or resolved: the times below are theirs.")
    median_seconds = serializers.FloatField(allow_null=True, help_text="Median time on the clock (pauses excluded).")
    p95_seconds = serializers.FloatField(allow_null=True, help_text="95th percentile of the time on the clock.")
    breaches_by_priority = serializers.DictField(child=serializers.IntegerField())


class AimSerializer(serializers.Serializer[Aim]):
    target_seconds = serializers.IntegerField()
    resolved = serializers.IntegerField(help_text="Resolution clocks stopped in the period.")
    within = serializers.IntegerField(help_text="Of those, resolved within the aim (time on the clock).")
    share = serializers.FloatField(allow_null=True)


class PauseSerializer(serializers.Serializer[PauseFigures]):
    clock = serializers.CharField()
    reason = serializers.CharField(help_text="waiting_on_customer or maintenance.")
    pauses = serializers.IntegerField()
    seconds = serializers.FloatField(help_text="Wall-clock time paused; a pause still running counts until now.")


class PolicySpanSerializer(serializers.Serializer[PolicySpan]):
    package = serializers.CharField()
    contract_from = serializers.DateTimeField()
    contract_to = serializers.DateTimeField(allow_null=True)
    policy_version = serializers.IntegerField(source="version", help_text="0: the package defaults.")
    reason = serializers.CharField()
    in_force_from = serializers.DateTimeField(allow_null=True, help_text="Within the period; null: not in force in it.")
    in_force_to = serializers.DateTimeField(allow_null=True)
    tickets = serializers.IntegerField(help_text="Tickets of the period whose clocks run under this version.")
    targets = serializers.JSONField(source="policy", help_text="The complete policy: targets in seconds, calendar.")


class MonthSerializer(serializers.Serializer[MonthCompliance]):
    month = serializers.CharField(source="key", help_text="YYYY-MM, in the organization's timezone.")
    first_response = TallySerializer()
    resolution = TallySerializer()


class DistributionBinSerializer(serializers.Serializer[DistributionBin]):
    low = serializers.FloatField(help_text="Share of the clock's own target where the bin starts.")
    high = serializers.FloatField(allow_null=True, help_text="Where it ends (excluded); null for the last bin.")
    count = serializers.IntegerField()


class DistributionSerializer(serializers.Serializer[Distribution]):
    targets_seconds = serializers.ListField(child=serializers.IntegerField())
    bins = DistributionBinSerializer(many=True)


class ReceivedSerializer(serializers.Serializer[SlaReport]):
    received = serializers.IntegerField(source="received_total")
    by_priority = serializers.SerializerMethodField()
    by_type = serializers.SerializerMethodField()
    by_priority_and_type = serializers.SerializerMethodField()

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"}})
    def get_by_priority(self, report: SlaReport) -> dict[str, int]:
        return report.received_by_priority

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"}})
    def get_by_type(self, report: SlaReport) -> dict[str, int]:
        return report.received_by_type

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "priority": {"type": "string"},
                    "type": {"type": "string"},
                    "count": {"type": "integer"},
                },
            },
        }
    )
    def get_by_priority_and_type(self, report: SlaReport) -> list[dict[str, Any]]:
        return [
            {"priority": priority, "type": ticket_type, "count": report.received.get((priority, ticket_type), 0)}
            for priority in Priority.values
            for ticket_type in TicketType.values
        ]


class DistributionsSerializer(serializers.Serializer[dict[str, Distribution]]):
    first_response = DistributionSerializer()
    resolution = DistributionSerializer()


class SlaReportSerializer(serializers.Serializer[SlaReport]):
    organization = OrganizationSummarySerializer()
    period = PeriodSerializer()
    generated_at = serializers.DateTimeField()
    tickets = ReceivedSerializer(source="*")
    first_response = ClockFiguresSerializer()
    resolution = ClockFiguresSerializer()
    aim = AimSerializer(help_text="The SLA's aim (reported, not enforced): resolved within 30 minutes.")
    pauses = PauseSerializer(many=True)
    policies = PolicySpanSerializer(many=True, help_text="Contracts and SLA policy versions of the period.")
    history = MonthSerializer(many=True, help_text="The twelve months up to the period's last.")
    distribution = DistributionsSerializer(source="distributions")


class ExclusionSerializer(serializers.Serializer[BreachExclusion]):
    excluded = serializers.BooleanField()
    category = serializers.CharField(help_text="Empty once the breach counts again.")
    reason = serializers.CharField()
    decided_at = serializers.DateTimeField()


class BreachSerializer(serializers.Serializer[Record]):
    reference = serializers.CharField(source="ticket.reference")
    ticket_id = serializers.UUIDField(source="ticket.public_id")
    link = serializers.SerializerMethodField()
    subject = serializers.CharField(source="ticket.subject")
    priority = serializers.CharField(source="ticket.priority")
    type = serializers.CharField(source="ticket.type")
    clock = serializers.CharField(source="clock_kind")
    epoch = serializers.IntegerField(help_text="0, then 1, 2… for each reopening (resolution only).")
    started_at = serializers.DateTimeField(source="clock.started_at")
    deadline = serializers.DateTimeField(source="due_at")
    stopped_at = serializers.DateTimeField(source="clock.stopped_at", allow_null=True)
    late_seconds = serializers.SerializerMethodField()
    still_open = serializers.SerializerMethodField()
    target_seconds = serializers.IntegerField(source="clock.target_seconds")
    policy_version = serializers.IntegerField(source="clock.policy_version")
    exclusion = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_link(self, record: Record) -> str:
        prefix: str = self.context["link_prefix"]
        return f"{prefix}{record.ticket.public_id}/"

    @extend_schema_field(OpenApiTypes.FLOAT)
    def get_late_seconds(self, record: Record) -> float:
        return late_seconds(record, now=self.context["now"])

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_still_open(self, record: Record) -> bool:
        """The clock has not stopped: `late_seconds` runs until now."""
        return record.clock.stopped_at is None

    @extend_schema_field(ExclusionSerializer(allow_null=True))
    def get_exclusion(self, record: Record) -> dict[str, Any] | None:
        exclusion = exclusion_of(record)
        return ExclusionSerializer(exclusion).data if exclusion is not None else None


class ExclusionChangeSerializer(serializers.Serializer[BreachExclusionChange]):
    action = serializers.CharField()
    category = serializers.CharField()
    reason = serializers.CharField()
    changed_by = serializers.EmailField(source="changed_by.email")
    changed_at = serializers.DateTimeField()


class OverviewRowSerializer(serializers.Serializer[OverviewRow]):
    organization = OrganizationSummarySerializer()
    overall = TallySerializer(help_text="Both clocks together; the list is ranked by its share_met, worst first.")
    first_response = TallySerializer()
    resolution = TallySerializer()


def serialized_list(serializer: type[serializers.Serializer[T]], items: Iterable[T], **context: Any) -> list[Any]:
    return [serializer(item, context=context).data for item in items]
