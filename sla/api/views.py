from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.exceptions import PermissionDeniedError
from sla.models import PolicyVersion
from sla.selectors import policy_version_list
from sla.services import (
    DeadlineMove,
    policy_in_force,
    policy_version_create,
    sla_rebaseline_apply,
    sla_rebaseline_preview,
)
from tenancy.api.base import TenantApi
from tenancy.selectors import contract_history


class PolicyVersionOutputSerializer(serializers.Serializer[PolicyVersion]):
    version = serializers.IntegerField(source="number")
    overrides = serializers.JSONField()
    reason = serializers.CharField()
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    package = serializers.CharField(source="contract.package")


class ContractApi(TenantApi):
    """The contract's SLA: the package, the targets in force (defaults merged with overrides) and every version.

    Members read their own contract; WALT staff write new versions of the overrides.
    """

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        overrides = serializers.JSONField(help_text="Only what differs from the package defaults (seconds).")
        reason = serializers.CharField(max_length=2000, help_text="Why the targets change; kept in the history.")

    @extend_schema(responses={200: inline_serializer("Contract", {"package": serializers.CharField()})})
    def get(self, request: Request) -> Response:
        return Response(self._contract())

    @extend_schema(
        request=InputSerializer,
        responses={200: inline_serializer("ContractUpdated", {"package": serializers.CharField()})},
        examples=[
            OpenApiExample(
                "Faster P1",
                value={
                    "overrides": {
                        "first_response_seconds": {"*": 1800, "P1": 900},
                        "resolution_seconds": {"incident": {"P1": 7200}},
                        "warning_threshold": 0.8,
                    },
                    "reason": "Contract amendment 2026-11: P1 first response in 15 minutes",
                },
                request_only=True,
            )
        ],
    )
    def put(self, request: Request) -> Response:
        if not self.user.is_walt_staff:
            raise PermissionDeniedError("Only WALT staff change contract targets.")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy_version_create(
            organization=self.organization,
            overrides=serializer.validated_data["overrides"],
            reason=serializer.validated_data["reason"],
            created_by=self.user,
            at=timezone.now(),
        )
        return Response(self._contract())

    def _contract(self) -> dict[str, Any]:
        contract, version, policy = policy_in_force(organization=self.organization, at=timezone.now())
        versions = policy_version_list(organization=self.organization)
        current = next((row for row in versions if row.number == version), None)
        return {
            "package": contract.package,
            "effective_from": contract.effective_from,
            "effective_to": contract.effective_to,
            "policy_version": version,
            "overrides": current.overrides if current else {},
            "targets": policy,
            "history": [PolicyVersionOutputSerializer(row).data for row in versions],
            "contracts": [
                {"package": row.package, "effective_from": row.effective_from, "effective_to": row.effective_to}
                for row in contract_history(organization=self.organization)
            ],
        }


class RebaselineApi(TenantApi):
    """Move open tickets onto the targets in force now. Without `apply` it only previews what would move."""

    class InputSerializer(serializers.Serializer[dict[str, bool]]):
        apply = serializers.BooleanField(default=False)

    @extend_schema(
        request=InputSerializer,
        responses={200: inline_serializer("Rebaseline", {"applied": serializers.BooleanField()})},
    )
    def post(self, request: Request) -> Response:
        if not self.user.is_walt_staff:
            raise PermissionDeniedError("Only WALT staff re-baseline tickets.")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        apply = serializer.validated_data["apply"]
        now = timezone.now()
        moves = (sla_rebaseline_apply if apply else sla_rebaseline_preview)(organization=self.organization, now=now)
        return Response({"applied": apply, "tickets": len({move.ticket_id for move in moves}), "moves": _moves(moves)})


def _moves(moves: list[DeadlineMove]) -> list[dict[str, Any]]:
    return [
        {
            "ticket": move.ticket_id,
            "reference": move.reference,
            "clock": move.clock,
            "target_seconds_before": move.target_before,
            "target_seconds_after": move.target_after,
            "due_before": move.due_before,
            "due_after": move.due_after,
        }
        for move in moves
    ]
