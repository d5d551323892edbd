"""The four payload formats: validation that lists every error with its JSON path, and the alerts inside.

Only the fields the portal uses are checked; everything else is accepted and kept in the raw event, because
senders add fields without bumping their version strings (Alertmanager still says "4").
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from django.utils.dateparse import parse_datetime

from monitoring.models import Kind

FIRING = "firing"
RESOLVED = "resolved"
ACKNOWLEDGED = "acknowledged"

PAGERDUTY_ACTIONS = {"trigger": FIRING, "resolve": RESOLVED, "acknowledge": ACKNOWLEDGED}
PAGERDUTY_SEVERITIES = ("critical", "error", "warning", "info")
DATADOG_RECOVERED = "Recovered"
MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024


@dataclass
class Alert:
    dedup_key: str
    status: str  # firing, resolved or acknowledged
    severity: str = ""
    title: str = ""
    labels: dict[str, Any] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)  # (text, href)

    def details_markdown(self) -> str:
        """What the ticket's description carries: labels, annotations and links, in Markdown."""
        parts = []
        for heading, values in (("Labels", self.labels), ("Annotations", self.annotations)):
            if values:
                rows = "\n".join(f"- **{_md(str(key))}**: {_md(str(value))}" for key, value in sorted(values.items()))
                parts.append(f"### {heading}\n\n{rows}")
        if self.links:
            rows = "\n".join(f"- [{_md(text)}](<{_md_destination(href)}>)" for text, href in self.links)
            parts.append(f"### Links\n\n{rows}")
        return "\n\n".join(parts)


def _md(text: str) -> str:
    # Labels are the sender's text: keep them from turning into Markdown structure, or into HTML that the sanitizer
    # would then drop (`value < 10`, `<none>`): entities show the characters as they were sent.
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_").replace("`", "\\`").replace("[", "\\[")


def _md_destination(href: str) -> str:
    # Inside <…> a link destination ends at the first ">" and may not hold "<" or a line break: percent-encoded (with
    # quotes and spaces) they mean the same to the server the URL points at, and the sender's URL stays one link.
    return quote(href, safe="/:?#[]@!$&'()*+,;=%~-._")


class _Errors:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, path: str, code: str, detail: str) -> None:
        self.items.append({"path": path or "$", "code": code, "detail": detail})


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _object(value: Any, path: str, errors: _Errors, *, required: bool = True) -> dict[str, Any] | None:
    if value is None and not required:
        return None
    if value is None:
        errors.add(path, "required", "This field is required.")
        return None
    if not isinstance(value, dict):
        errors.add(path, "invalid_type", f"Expected an object, got {_type_name(value)}.")
        return None
    return value


def _string(obj: dict[str, Any], key: str, path: str, errors: _Errors, *, required: bool = True) -> str | None:
    value_path = _join(path, key)
    if key not in obj or obj[key] is None:
        if required:
            errors.add(value_path, "required", "This field is required.")
        return None
    value = obj[key]
    if not isinstance(value, str):
        errors.add(value_path, "invalid_type", f"Expected a string, got {_type_name(value)}.")
        return None
    return value


def _choice(obj: dict[str, Any], key: str, path: str, errors: _Errors, choices: tuple[str, ...]) -> str | None:
    value = _string(obj, key, path, errors)
    if value is not None and value not in choices:
        errors.add(_join(path, key), "invalid_choice", f"Expected one of {', '.join(choices)}; got “{value[:50]}”.")
        return None
    return value


def _string_map(obj: dict[str, Any], key: str, path: str, errors: _Errors, *, required: bool) -> dict[str, Any]:
    mapping = _object(obj.get(key), _join(path, key), errors, required=required)
    if mapping is None:
        return {}
    for name, value in mapping.items():
        if not isinstance(value, str):
            errors.add(_join(_join(path, key), name), "invalid_type", f"Expected a string, got {_type_name(value)}.")
    return mapping


def _timestamp(obj: dict[str, Any], key: str, path: str, errors: _Errors, *, required: bool) -> datetime | None:
    value = _string(obj, key, path, errors, required=required)
    if value is None:
        return None
    parsed = _parse_time(value)
    if parsed is None:
        errors.add(_join(path, key), "invalid_datetime", "Expected an RFC 3339 time, e.g. 2026-11-29T10:00:00Z.")
    return parsed


def _parse_time(value: str) -> datetime | None:
    # Go sends nanoseconds; Python keeps microseconds, which is all a ticket needs.
    text = value.strip()
    if "." in text:
        head, _, tail = text.partition(".")
        digits = len(tail) - len(tail.lstrip("0123456789"))
        text = f"{head}.{tail[: min(digits, 6)]}{tail[digits:]}"
    try:
        parsed = parse_datetime(text.replace("z", "Z"))
    except ValueError:
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    return parsed


def _type_name(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else type(value).__name__)


def labels_key(labels: dict[str, Any]) -> str:
    """The dedup key of an alert that came without a fingerprint: a hash of its sorted label set."""
    canonical = json.dumps(labels, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _alertmanager(payload: dict[str, Any], errors: _Errors, *, kind: str) -> list[Alert]:
    if kind == Kind.ALERTMANAGER:
        _string(payload, "version", "", errors)
    _choice(payload, "status", "", errors, (FIRING, RESOLVED))
    for key in ("groupKey", "receiver", "externalURL"):
        _string(payload, key, "", errors, required=False)
    common_labels = _string_map(payload, "commonLabels", "", errors, required=False)
    _string_map(payload, "commonAnnotations", "", errors, required=False)
    raw_alerts = payload.get("alerts")
    if raw_alerts is None:
        errors.add("alerts", "required", "This field is required.")
        return []
    if not isinstance(raw_alerts, list):
        errors.add("alerts", "invalid_type", f"Expected an array, got {_type_name(raw_alerts)}.")
        return []
    if not raw_alerts:
        errors.add("alerts", "empty", "Send at least one alert.")
    alerts = []
    for index, raw in enumerate(raw_alerts):
        path = _join("alerts", index)
        item = _object(raw, path, errors)
        if item is None:
            continue
        status = _choice(item, "status", path, errors, (FIRING, RESOLVED))
        labels = _string_map(item, "labels", path, errors, required=True)
        annotations = _string_map(item, "annotations", path, errors, required=False)
        _timestamp(item, "startsAt", path, errors, required=True)
        _timestamp(item, "endsAt", path, errors, required=status == RESOLVED)
        fingerprint = _string(item, "fingerprint", path, errors, required=False)
        if fingerprint is not None and len(fingerprint) > MAX_DEDUP_KEY:
            errors.add(_join(path, "fingerprint"), "max_length", f"At most {MAX_DEDUP_KEY} characters.")
        links = [
            (name, str(item[key]))
            for key, name in (
                ("generatorURL", "Source"),
                ("dashboardURL", "Dashboard"),
                ("panelURL", "Panel"),
                ("silenceURL", "Silence"),
            )
            if isinstance(item.get(key), str) and item[key].startswith(("http://", "https://"))
        ]
        if isinstance(annotations.get("runbook_url"), str) and annotations["runbook_url"].startswith("http"):
            links.append(("Runbook", annotations["runbook_url"]))
        alerts.append(
            Alert(
                dedup_key=fingerprint or labels_key(labels),
                status=status or FIRING,
                severity=str(labels.get("severity") or common_labels.get("severity") or ""),
                title=str(annotations.get("summary") or labels.get("alertname") or "Alert"),
                labels=labels,
                annotations=annotations,
                links=links,
            )
        )
    return alerts


def _pagerduty_links(raw_links: Any, errors: _Errors) -> list[tuple[str, str]]:
    links: list[tuple[str, str]] = []
    if raw_links is None:
        return links
    if not isinstance(raw_links, list):
        errors.add("links", "invalid_type", f"Expected an array, got {_type_name(raw_links)}.")
        return links
    for index, raw in enumerate(raw_links):
        link = _object(raw, _join("links", index), errors)
        if link is not None:
            href = _string(link, "href", _join("links", index), errors)
            text = _string(link, "text", _join("links", index), errors, required=False)
            if href:
                links.append((text or href, href))
    return links


def _pagerduty(payload: dict[str, Any], errors: _Errors, *, fallback_key: str | None) -> list[Alert]:
    _string(payload, "routing_key", "", errors, required=False)  # our URL token is the credential
    action = _choice(payload, "event_action", "", errors, tuple(PAGERDUTY_ACTIONS))
    dedup_key = _string(payload, "dedup_key", "", errors, required=action in ("resolve", "acknowledge"))
    if dedup_key is not None and not 0 < len(dedup_key) <= MAX_DEDUP_KEY:
        errors.add("dedup_key", "invalid_length", f"Between 1 and {MAX_DEDUP_KEY} characters.")
    body = _object(payload.get("payload"), "payload", errors, required=action == "trigger")
    summary = severity = ""
    details: dict[str, Any] = {}
    if body is not None:
        summary = _string(body, "summary", "payload", errors) or ""
        if len(summary) > MAX_SUMMARY:
            errors.add("payload.summary", "max_length", f"At most {MAX_SUMMARY} characters.")
        _string(body, "source", "payload", errors)
        severity = _choice(body, "severity", "payload", errors, PAGERDUTY_SEVERITIES) or ""
        _timestamp(body, "timestamp", "payload", errors, required=False)
        for key in ("component", "group", "class"):
            value = _string(body, key, "payload", errors, required=False)
            if value:
                details[key] = value
        if isinstance(body.get("source"), str):
            details["source"] = body["source"]
        custom = _object(body.get("custom_details"), "payload.custom_details", errors, required=False)
        annotations = {
            str(key): json.dumps(value) if not isinstance(value, str) else value
            for key, value in (custom or {}).items()
        }
    else:
        annotations = {}
    links = _pagerduty_links(payload.get("links"), errors)
    return [
        Alert(
            dedup_key=dedup_key or fallback_key or "",
            status=PAGERDUTY_ACTIONS.get(action or "", FIRING),
            severity=severity,
            title=summary or "PagerDuty event",
            labels=details,
            annotations=annotations,
            links=links,
        )
    ]


def _datadog(payload: dict[str, Any], errors: _Errors) -> list[Alert]:
    _string(payload, "id", "", errors)
    transition = _string(payload, "alert_transition", "", errors)
    if transition is not None and not transition.strip():
        errors.add("alert_transition", "blank", "Send $ALERT_TRANSITION (Triggered, Recovered…).")
    title = _string(payload, "alert_title", "", errors) or ""
    cycle_key = _string(payload, "alert_cycle_key", "", errors, required=False) or ""
    alert_id = _string(payload, "alert_id", "", errors, required=False) or ""
    scope = _string(payload, "alert_scope", "", errors, required=False) or ""
    alert_type = _string(payload, "alert_type", "", errors, required=False) or ""
    body = _string(payload, "body", "", errors, required=False) or ""
    link = _string(payload, "link", "", errors, required=False) or ""
    tags = _string(payload, "tags", "", errors, required=False) or ""
    if not cycle_key and not alert_id:
        errors.add("alert_cycle_key", "required", "Send $ALERT_CYCLE_KEY, or at least $ALERT_ID.")
    dedup_key = cycle_key or f"{alert_id}:{scope}"
    if len(dedup_key) > MAX_DEDUP_KEY:
        dedup_key = hashlib.sha256(dedup_key.encode()).hexdigest()
    labels = {key: value for key, value in (("monitor", alert_id), ("scope", scope), ("tags", tags)) if value}
    return [
        Alert(
            dedup_key=dedup_key,
            status=RESOLVED if (transition or "").strip() == DATADOG_RECOVERED else FIRING,
            severity=alert_type,
            title=title or "Datadog alert",
            labels=labels,
            annotations={"message": body} if body else {},
            links=[("Datadog", link)] if link.startswith("https://") else [],
        )
    ]


def parse(*, kind: str, payload: Any, fallback_key: str | None = None) -> tuple[list[Alert], list[dict[str, str]]]:
    """The alerts of a payload and every validation error (with its JSON path); alerts mean nothing with errors."""
    errors = _Errors()
    if not isinstance(payload, dict):
        errors.add("$", "invalid_type", f"Expected a JSON object, got {_type_name(payload)}.")
        return [], errors.items
    if kind in (Kind.ALERTMANAGER, Kind.GRAFANA):
        alerts = _alertmanager(payload, errors, kind=kind)
    elif kind == Kind.PAGERDUTY:
        alerts = _pagerduty(payload, errors, fallback_key=fallback_key)
    else:
        alerts = _datadog(payload, errors)
    return alerts, errors.items
