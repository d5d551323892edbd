"""SLA targets: the package defaults, a contract's overrides field by field, and their validation.

A policy is stored as plain JSON so a clock can keep a complete snapshot of the policy it was started under:

    {
      "first_response_seconds": {"*": 1800, "P1": 900},                  # by priority, "*" for any
      "resolution_seconds": {"incident": {"*": 14400, "P1": 7200}, ...},  # by type, then priority
      "warning_threshold": 0.75,                                          # share of the target
      "calendar": {"kind": "24x7"} | {"kind": "business_hours", "timezone": …, "weekly": …, "holidays": […]},
      "maintenance_pauses": false
    }
"""

from copy import deepcopy
from typing import Any

from sla.calendars import TWENTY_FOUR_SEVEN, validate_calendar_config
from tickets.models import Priority, TicketType

MINUTE = 60
HOUR = 60 * MINUTE

# The SLA: first response within 30 minutes of entry; resolution up to 4 hours depending on the type; 24×7.
PACKAGE_DEFAULTS: dict[str, Any] = {
    "first_response_seconds": {"*": 30 * MINUTE},
    "resolution_seconds": {
        TicketType.QUESTION: {"*": 1 * HOUR},
        TicketType.INCIDENT: {"*": 4 * HOUR},
        TicketType.CHANGE_REQUEST: {"*": 4 * HOUR},
        TicketType.ARCHITECTURE_REVIEW: {"*": 4 * HOUR},
        TicketType.DEPLOYMENT_PLANNING: {"*": 4 * HOUR},
    },
    "warning_threshold": 0.75,
    "calendar": TWENTY_FOUR_SEVEN,
    "maintenance_pauses": False,
}
OVERRIDABLE = set(PACKAGE_DEFAULTS)
_PRIORITY_KEYS = {"*", *Priority.values}


def package_defaults(package: str) -> dict[str, Any]:
    """Standard and Premium share the SLA's default targets; entitlements, not targets, tell them apart."""
    return deepcopy(PACKAGE_DEFAULTS)


def effective_policy(*, package: str, overrides: dict[str, Any]) -> dict[str, Any]:
    policy = package_defaults(package)
    for key, value in overrides.items():
        if key == "first_response_seconds":
            policy[key] = {**policy[key], **value}
        elif key == "resolution_seconds":
            for ticket_type, by_priority in value.items():
                policy[key][ticket_type] = {**policy[key].get(ticket_type, {}), **by_priority}
        else:
            policy[key] = value
    return policy


def first_response_target(policy: dict[str, Any], *, priority: str) -> int:
    targets = policy["first_response_seconds"]
    return int(targets.get(priority, targets["*"]))


def resolution_target(policy: dict[str, Any], *, ticket_type: str, priority: str) -> int:
    targets = policy["resolution_seconds"][ticket_type]
    return int(targets.get(priority, targets["*"]))


def validate_overrides(overrides: Any) -> list[dict[str, str]]:
    """Every problem with an override set, as API field errors with their JSON path (empty when valid)."""
    if not isinstance(overrides, dict):
        return [{"path": "overrides", "code": "invalid", "detail": "Overrides are an object."}]
    errors = [
        {
            "path": f"overrides.{key}",
            "code": "unknown",
            "detail": f"Unknown setting; use {', '.join(sorted(OVERRIDABLE))}.",
        }
        for key in overrides
        if key not in OVERRIDABLE
    ]
    if "first_response_seconds" in overrides:
        errors += _by_priority_errors(overrides["first_response_seconds"], "overrides.first_response_seconds")
    resolution = overrides.get("resolution_seconds", {})
    if not isinstance(resolution, dict):
        errors.append({"path": "overrides.resolution_seconds", "code": "invalid", "detail": "An object by type."})
    else:
        for ticket_type, by_priority in resolution.items():
            path = f"overrides.resolution_seconds.{ticket_type}"
            if ticket_type not in TicketType.values:
                errors.append(
                    {"path": path, "code": "unknown", "detail": f"Unknown type; use {', '.join(TicketType.values)}."}
                )
            else:
                errors += _by_priority_errors(by_priority, path)
    threshold = overrides.get("warning_threshold", 0.75)
    if not isinstance(threshold, int | float) or isinstance(threshold, bool) or not 0 < threshold < 1:
        errors.append(
            {"path": "overrides.warning_threshold", "code": "invalid", "detail": "A share between 0 and 1, e.g. 0.75."}
        )
    if "calendar" in overrides:
        errors += [
            {"path": "overrides.calendar", "code": "invalid", "detail": problem}
            for problem in validate_calendar_config(overrides["calendar"])
        ]
    if not isinstance(overrides.get("maintenance_pauses", False), bool):
        errors.append({"path": "overrides.maintenance_pauses", "code": "invalid", "detail": "true or false."})
    if not errors:
        errors += _ordering_errors(effective_policy(package="", overrides=overrides))
    return errors


def _by_priority_errors(targets: Any, path: str) -> list[dict[str, str]]:
    if not isinstance(targets, dict) or not targets:
        return [{"path": path, "code": "invalid", "detail": 'An object such as {"*": 1800, "P1": 900} (seconds).'}]
    errors = []
    for priority, seconds in targets.items():
        if priority not in _PRIORITY_KEYS:
            errors.append({"path": f"{path}.{priority}", "code": "unknown", "detail": "Use *, P1, P2, P3 or P4."})
        elif not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0:
            errors.append(
                {"path": f"{path}.{priority}", "code": "not_positive", "detail": "A positive number of seconds."}
            )
    return errors


def _ordering_errors(policy: dict[str, Any]) -> list[dict[str, str]]:
    errors = []
    for ticket_type in TicketType.values:
        for priority in Priority.values:
            respond = first_response_target(policy, priority=priority)
            resolve = resolution_target(policy, ticket_type=ticket_type, priority=priority)
            if resolve < respond:
                errors.append(
                    {
                        "path": f"overrides.resolution_seconds.{ticket_type}",
                        "code": "below_first_response",
                        "detail": f"{priority} {ticket_type}: resolution ({resolve} s) is shorter than the first "
                        f"response ({respond} s).",
                    }
                )
    return errors
