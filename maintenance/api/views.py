from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.markdown import render_markdown
from maintenance.models import Notice, Severity
from maintenance.selectors import Occurrence, maintenance_windows_overlapping, notice_list_for
from tenancy.api.base import TenantApi

DEFAULT_DAYS = 14
MAX_DAYS = 60


class MaintenanceWindowOutputSerializer(serializers.Serializer[Occurrence]):
    id = serializers.CharField(source="key", help_text="Stable per occurrence; the calendar feed's UID starts with it.")
    title = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(help_text="The window is [starts_at, ends_at).")
    scope = serializers.ChoiceField(
        choices=["region", "organization"],
        help_text="region: every organization of the region; organization: this organization only.",
    )
    region = serializers.CharField(allow_blank=True, help_text="The region of a region-wide window, else empty.")
    kind = serializers.ChoiceField(choices=["recurring", "one_off"])


class MaintenanceNoticeOutputSerializer(serializers.Serializer[Notice]):
    id = serializers.UUIDField(source="public_id")
    title = serializers.CharField()
    body = serializers.CharField(help_text="Markdown.")
    body_html = serializers.SerializerMethodField(help_text="The body rendered to sanitized HTML.")
    severity = serializers.ChoiceField(choices=Severity.choices)
    window = serializers.CharField(source="occurrence_key", help_text="The id of the window it concerns.")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    announce_at = serializers.DateTimeField(
        help_text="From then on the portal shows a banner and members are e-mailed."
    )
    published_at = serializers.DateTimeField()
    update_count = serializers.IntegerField(help_text="How many updates support sent after the announcement.")

    def get_body_html(self, notice: Notice) -> str:
        return str(render_markdown(notice.body))


class MaintenanceApi(TenantApi):
    """The organization's upcoming maintenance windows and the published notices about them; times in UTC."""

    class FilterSerializer(serializers.Serializer[dict[str, int]]):
        days = serializers.IntegerField(
            min_value=1, max_value=MAX_DAYS, default=DEFAULT_DAYS, help_text="How many days ahead to list windows."
        )

    class OutputSerializer(serializers.Serializer[dict[str, Any]]):
        windows = MaintenanceWindowOutputSerializer(many=True)
        notices = MaintenanceNoticeOutputSerializer(many=True)

    @extend_schema(parameters=[FilterSerializer], responses={200: OutputSerializer})
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        now = timezone.now()
        windows = maintenance_windows_overlapping(
            organization=self.organization, start=now, end=now + timedelta(days=filters.validated_data["days"])
        )
        notices = notice_list_for(organization=self.organization, now=now)
        return Response(self.OutputSerializer({"windows": windows, "notices": notices}).data)
