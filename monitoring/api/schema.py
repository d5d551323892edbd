"""The intake in the OpenAPI schema. It is a plain Django view (its body is capped before anything parses it), so
drf-spectacular cannot see it; this hook describes it beside the DRF endpoints."""

from typing import Any

from monitoring.models import Kind

_ERROR = {"$ref": "#/components/schemas/IntakeError"}


def _answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def add_intake(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {}).update(
        {
            "IntakeAccepted": {
                "type": "object",
                "properties": {
                    "status": {"type": "string", "enum": ["accepted"]},
                    "event_id": {"type": "string", "format": "uuid"},
                    "dedup_keys": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["status", "event_id", "dedup_keys"],
            },
            "IntakeError": {
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "errors": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "path": {"type": "string", "example": "alerts[3].endsAt"},
                                "code": {"type": "string"},
                                "detail": {"type": "string"},
                            },
                        },
                    },
                },
                "required": ["message", "errors"],
            },
        }
    )
    result.setdefault("paths", {})["/api/v1/integrations/{kind}/{token}/"] = {
        "post": {
            "operationId": "integrations_intake",
            "tags": ["integrations"],
            "summary": "Post alerts from a monitoring system",
            "description": "Alertmanager webhook, Grafana contact point, PagerDuty Events API v2 or Datadog webhook "
            "payloads, in the format of the source's kind. The token in the URL identifies the source (shown once "
            "when it is created). Bodies above 1 MiB are refused before parsing; every field error is listed with "
            "its JSON path; an accepted event is processed in the background.",
            "security": [],
            "parameters": [
                {"name": "kind", "in": "path", "required": True, "schema": {"type": "string", "enum": Kind.values}},
                {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
            },
            "responses": {
                "202": _answer("Accepted: stored, to be processed", {"$ref": "#/components/schemas/IntakeAccepted"}),
                "400": _answer("The body is not valid for this kind: every error with its JSON path", _ERROR),
                "401": _answer("A signature was required and is missing, wrong or too old", _ERROR),
                "403": _answer("The source is disabled, or the organization is not on Premium", _ERROR),
                "404": _answer("No source has this token", _ERROR),
                "413": _answer("The body is larger than 1 MiB", _ERROR),
                "503": _answer("Temporarily unavailable; retry after the Retry-After header", _ERROR),
            },
        }
    }
    return result
