"""Copy-paste configuration for each kind of sender, shown on a source's page."""

import json

from monitoring.models import Kind

PLACEHOLDER = "<token shown when it was created or rotated>"

DATADOG_TEMPLATE = {
    "id": "$ID",
    "alert_id": "$ALERT_ID",
    "alert_cycle_key": "$ALERT_CYCLE_KEY",
    "alert_transition": "$ALERT_TRANSITION",
    "alert_title": "$EVENT_TITLE",
    "alert_type": "$ALERT_TYPE",
    "alert_scope": "$ALERT_SCOPE",
    "body": "$EVENT_MSG",
    "link": "$LINK",
    "tags": "$TAGS",
    "date": "$DATE",
}


def sender_config(*, kind: str, intake_url: str, signed: bool) -> tuple[str, str]:
    """(title, text) of the configuration the customer pastes into the sender."""
    if kind == Kind.ALERTMANAGER:
        return (
            "alertmanager.yml: a receiver",
            "receivers:\n"
            "  - name: walt-labs-support\n"
            "    webhook_configs:\n"
            f"      - url: '{intake_url}'\n"
            "        send_resolved: true\n"
            "        max_alerts: 100\n",
        )
    if kind == Kind.GRAFANA:
        lines = [
            "Alerting > Contact points > New contact point",
            "  Integration: Webhook",
            f"  URL: {intake_url}",
            "  HTTP method: POST",
            "  Max alerts: 100",
        ]
        if signed:
            lines += [
                "  Optional settings > HMAC signature:",
                "    Secret: the secret saved on this source",
                "    Header: X-Grafana-Alerting-Signature",
                "    Timestamp header: X-Grafana-Alerting-Timestamp",
            ]
        return "Grafana contact point", "\n".join(lines) + "\n"
    if kind == Kind.PAGERDUTY:
        return (
            "PagerDuty Events API v2 sender (e.g. a tool with a PagerDuty integration)",
            f"Events API URL: {intake_url}\n"
            "routing_key: any value (the token in the URL identifies this source)\n"
            "Send event_action trigger / acknowledge / resolve with the same dedup_key.\n",
        )
    return (
        "Datadog > Integrations > Webhooks: URL and payload",
        f"URL: {intake_url}\nPayload:\n{json.dumps(DATADOG_TEMPLATE, indent=2)}\n"
        "Mention @webhook-walt-labs-support in each monitor's message.\n",
    )
