"""Hand-written deliveries in each sender's format: the shapes documented for Alertmanager webhook v4, Grafana's
webhook contact point, PagerDuty Events API v2 and our Datadog payload template."""

import copy
from typing import Any

FIRING_AT = "2026-11-20T11:58:03.123456789Z"  # Go sends nanoseconds


def am_alert(fingerprint: str = "a1b2c3d4e5f60718", status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-1:9100", **labels},
        "annotations": {"summary": "Disk almost full on db-1", "runbook_url": "https://runbooks.example/disk"},
        "startsAt": FIRING_AT,
        "endsAt": "2026-11-20T12:10:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "https://prometheus.example/graph?g0.expr=disk",
        "fingerprint": fingerprint,
    }


def alertmanager(*alerts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    alerts = alerts or (am_alert(),)
    status = "firing" if any(alert.get("status") == "firing" for alert in alerts) else "resolved"
    return {
        "version": "4",
        "groupKey": '{}/{team="db"}:{alertname="DiskFull"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "walt\\.support",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull"},
        "commonAnnotations": {},
        "externalURL": "https://alertmanager.example",
        "notification_reason": "first notification",  # 0.32+: unknown to older receivers, must be kept
        "alerts": list(alerts),
        **extra,
    }


def grafana(*alerts: dict[str, Any]) -> dict[str, Any]:
    body = alertmanager(*alerts)
    body.pop("notification_reason")
    body.update({"version": "1", "orgId": 1, "title": "[FIRING:1] DiskFull", "state": "alerting", "message": "…"})
    for alert in body["alerts"]:
        alert.update({"silenceURL": "https://grafana.example/alerting/silence/new", "values": {"B": 97.5}})
    return body


def pagerduty(
    action: str = "trigger", dedup_key: str | None = "disk-db-1", severity: str = "critical"
) -> dict[str, Any]:
    body: dict[str, Any] = {"routing_key": "R0123456789abcdef0123456789abcde", "event_action": action}
    if dedup_key is not None:
        body["dedup_key"] = dedup_key
    if action == "trigger":
        body["payload"] = {
            "summary": "Disk almost full on db-1",
            "source": "db-1.example",
            "severity": severity,
            "timestamp": "2015-07-17T08:42:58.315+00:00",
            "component": "postgres",
            "custom_details": {"free_bytes": 1024, "mount": "/var"},
        }
        body["links"] = [{"href": "https://grafana.example/d/disk", "text": "Dashboard"}]
    return body


def datadog(
    transition: str = "Triggered", cycle_key: str = "7134a0c9d1f2", alert_type: str = "error"
) -> dict[str, Any]:
    return {
        "id": "7355210045672811111",
        "alert_id": "1234",
        "alert_cycle_key": cycle_key,
        "alert_transition": transition,
        "alert_title": "[Triggered] Disk almost full on db-1",
        "alert_type": alert_type,
        "alert_scope": "host:db-1",
        "body": "Disk usage is above 95 %",
        "link": "https://app.datadoghq.eu/monitors/1234",
        "tags": "env:prod,team:db",
        "date": "1763639883000",
        "org": {"id": "1", "name": "Acme"},
    }


def resolved(body: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(body)
    for alert in body["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = "2026-11-20T12:10:00Z"
    body["status"] = "resolved"
    return body
