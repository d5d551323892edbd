from typing import Any
from uuid import UUID

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import paginated_response
from core.exceptions import PermissionDeniedError
from tenancy.access_grants import access_grant_create, access_grant_revoke
from tenancy.api.base import TenantApi
from tenancy.models import AccessGrant, Membership
from tenancy.selectors import access_grant_get, access_grant_list


class AccessGrantOutputSerializer(serializers.Serializer[AccessGrant]):
    id = serializers.UUIDField(source="public_id")
    scope = serializers.CharField()
    credentials_reference = serializers.CharField()
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.EmailField(source="created_by.email")
    active = serializers.SerializerMethodField()

    def get_active(self, grant: AccessGrant) -> bool:
        return grant.is_active_at(timezone.now())


class AccessGrantListApi(TenantApi):
    """Premium environment-access grants: customer admins record and revoke them; staff read them."""

    member_roles = (Membership.Role.ADMIN,)

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        scope = serializers.CharField(max_length=5000)
        credentials_reference = serializers.CharField(
            max_length=300, help_text="Where the credentials are shared (e.g. a vault path), never the credentials."
        )
        valid_from = serializers.DateTimeField()
        valid_until = serializers.DateTimeField()

    @extend_schema(responses={200: AccessGrantOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return paginated_response(
            queryset=access_grant_list(organization=self.organization),
            serializer_class=AccessGrantOutputSerializer,
            request=request,
            view=self,
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: AccessGrantOutputSerializer},
        examples=[
            OpenApiExample(
                "Production cluster",
                value={
                    "scope": "Production Kubernetes cluster, namespace shop: restart and scale deployments",
                    "credentials_reference": "Shared vault 'WALT support', item 'prod-k8s'",
                    "valid_from": "2026-12-01T00:00:00Z",
                    "valid_until": "2027-01-01T00:00:00Z",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        if self.user.is_walt_staff:
            raise PermissionDeniedError("Access is granted by the customer's admins, not by WALT staff.")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        grant = access_grant_create(
            organization=self.organization,
            created_by=self.user,
            scope=data["scope"],
            credentials_reference=data["credentials_reference"],
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
        )
        return Response(AccessGrantOutputSerializer(grant).data, status=status.HTTP_201_CREATED)


class AccessGrantDetailApi(TenantApi):
    member_roles = (Membership.Role.ADMIN,)

    @extend_schema(responses={200: AccessGrantOutputSerializer})
    def get(self, request: Request, grant_id: UUID) -> Response:
        return Response(AccessGrantOutputSerializer(self._grant(grant_id)).data)

    @extend_schema(responses={200: AccessGrantOutputSerializer}, description="Revoke the grant now (kept as history).")
    def delete(self, request: Request, grant_id: UUID) -> Response:
        if self.user.is_walt_staff:
            raise PermissionDeniedError("Grants are revoked by the customer's admins.")
        grant = access_grant_revoke(grant=self._grant(grant_id), revoked_by=self.user)
        return Response(AccessGrantOutputSerializer(grant).data)

    def _grant(self, grant_id: UUID) -> AccessGrant:
        try:
            return access_grant_get(organization=self.organization, public_id=grant_id)
        except AccessGrant.DoesNotExist:
            raise NotFound from None
