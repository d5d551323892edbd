from typing import Any
from uuid import UUID

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import paginated_response
from monitoring.models import Kind, MonitoringSource, ResolvePolicy
from monitoring.selectors import source_get, source_list
from monitoring.services import (
    monitoring_source_create,
    monitoring_source_revoke,
    monitoring_source_rotate,
    monitoring_source_update,
)
from tenancy.api.base import TenantApi
from tenancy.models import Membership


class SourceOutputSerializer(serializers.Serializer[MonitoringSource]):
    id = serializers.UUIDField(source="public_id")
    kind = serializers.ChoiceField(choices=Kind.choices)
    name = serializers.CharField()
    enabled = serializers.BooleanField()
    token_hint = serializers.CharField(help_text="The token's last characters; empty once revoked.")
    token_issued_at = serializers.DateTimeField(allow_null=True)
    revoked = serializers.SerializerMethodField()
    signed = serializers.SerializerMethodField(help_text="Whether deliveries must carry an HMAC signature.")
    severity_map = serializers.DictField(child=serializers.CharField())
    resolve_policy = serializers.ChoiceField(choices=ResolvePolicy.choices)
    refused_count = serializers.IntegerField(help_text="Deliveries refused because the source was disabled.")
    created_at = serializers.DateTimeField()

    def get_revoked(self, source: MonitoringSource) -> bool:
        return source.token_hash is None

    def get_signed(self, source: MonitoringSource) -> bool:
        return bool(source.hmac_secret)


class SourceWithTokenOutputSerializer(SourceOutputSerializer):
    token = serializers.CharField(help_text="Shown this once; the portal keeps only its hash.")
    intake_url = serializers.CharField()


class _SourceApi(TenantApi):
    # Customer admins manage their sources; staff may too. Members do not see tokens or mappings.
    member_roles = (Membership.Role.ADMIN,)

    def _source(self, source_id: UUID) -> MonitoringSource:
        try:
            return source_get(organization=self.organization, public_id=source_id)
        except MonitoringSource.DoesNotExist:
            raise NotFound from None

    def _created(self, request: Request, source: MonitoringSource, token: str, code: int) -> Response:
        data = dict(SourceOutputSerializer(source).data)
        data["token"] = token
        data["intake_url"] = request.build_absolute_uri(f"/api/v1/integrations/{source.kind}/{token}/")
        return Response(data, status=code)


class SourceListApi(_SourceApi):
    """The organization's monitoring sources (Premium only); creating one returns its token once."""

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        kind = serializers.ChoiceField(choices=Kind.choices)
        name = serializers.CharField(max_length=200)
        severity_map = serializers.DictField(child=serializers.CharField(), required=False)
        resolve_policy = serializers.ChoiceField(choices=ResolvePolicy.choices, default=ResolvePolicy.RESOLVE)
        hmac_secret = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)

    @extend_schema(responses={200: SourceOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return paginated_response(
            queryset=source_list(organization=self.organization),
            serializer_class=SourceOutputSerializer,
            request=request,
            view=self,
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: SourceWithTokenOutputSerializer},
        examples=[OpenApiExample("Alertmanager", value={"kind": "alertmanager", "name": "Prod"}, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        source, token = monitoring_source_create(
            organization=self.organization,
            kind=data["kind"],
            name=data["name"],
            severity_map=data.get("severity_map"),
            resolve_policy=data["resolve_policy"],
            hmac_secret=data["hmac_secret"],
        )
        return self._created(request, source, token, status.HTTP_201_CREATED)


class SourceDetailApi(_SourceApi):
    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        name = serializers.CharField(max_length=200, required=False)
        enabled = serializers.BooleanField(required=False)
        severity_map = serializers.DictField(child=serializers.CharField(), required=False)
        resolve_policy = serializers.ChoiceField(choices=ResolvePolicy.choices, required=False)
        hmac_secret = serializers.CharField(max_length=200, required=False, allow_blank=True)

    @extend_schema(responses={200: SourceOutputSerializer})
    def get(self, request: Request, source_id: UUID) -> Response:
        return Response(SourceOutputSerializer(self._source(source_id)).data)

    @extend_schema(request=InputSerializer, responses={200: SourceOutputSerializer})
    def patch(self, request: Request, source_id: UUID) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        source = monitoring_source_update(source=self._source(source_id), **serializer.validated_data)
        return Response(SourceOutputSerializer(source).data)

    @extend_schema(responses={200: SourceOutputSerializer}, description="Revoke the token and disable the source.")
    def delete(self, request: Request, source_id: UUID) -> Response:
        source = monitoring_source_revoke(source=self._source(source_id))
        return Response(SourceOutputSerializer(source).data)


class SourceRotateApi(_SourceApi):
    @extend_schema(request=None, responses={200: SourceWithTokenOutputSerializer})
    def post(self, request: Request, source_id: UUID) -> Response:
        source, token = monitoring_source_rotate(source=self._source(source_id))
        return self._created(request, source, token, status.HTTP_200_OK)
