"""Monitoring intake: the sources that send alerts, the deliveries they made, and the alerts that became tickets.

Every row belongs to one organization. A source's token is kept only as its SHA-256, so a database dump does not
hand out working intake URLs; the token itself is shown once, when it is made.
"""

import uuid
from typing import ClassVar

from django.db import models
from django.db.models import Q

from tenancy.models import TenantOwnedModel
from tickets.models import Ticket

DEFAULT_SEVERITY_MAP = {"critical": "P1", "error": "P2", "high": "P2", "warning": "P3", "info": "P4"}
DEFAULT_PRIORITY = "P3"  # a severity the mapping does not name


def default_severity_map() -> dict[str, str]:
    return dict(DEFAULT_SEVERITY_MAP)


class Kind(models.TextChoices):
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
    GRAFANA = "grafana", "Grafana alerting"
    PAGERDUTY = "pagerduty", "PagerDuty Events API v2"
    DATADOG = "datadog", "Datadog webhook"


class ResolvePolicy(models.TextChoices):
    RESOLVE = "resolve", "Resolve the ticket"
    NOTE = "note", "Add a note and leave the ticket to a person"


class MonitoringSource(TenantOwnedModel):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    # NULL once revoked: the old URL then answers 404 like any unknown token.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    token_hint = models.CharField(max_length=8, blank=True, help_text="The token's last characters, to tell it apart.")
    token_issued_at = models.DateTimeField(null=True, blank=True)
    hmac_secret = models.CharField(
        max_length=200, blank=True, help_text="When set, deliveries must carry a Grafana-style HMAC-SHA256 signature."
    )
    severity_map = models.JSONField(default=default_severity_map)
    resolve_policy = models.CharField(max_length=16, choices=ResolvePolicy.choices, default=ResolvePolicy.RESOLVE)
    # Refused deliveries (Standard package, disabled source) leave nothing but this count.
    refused_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering: ClassVar[list[str]] = ["name", "pk"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["organization", "name"], name="monitoringsource_org_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def priority_for(self, severity: str) -> str:
        mapping = self.severity_map if isinstance(self.severity_map, dict) else {}
        return str(mapping.get(severity.lower(), DEFAULT_PRIORITY)) if severity else DEFAULT_PRIORITY


class InboundEvent(TenantOwnedModel):
    """An accepted delivery, stored raw before anything else happens, then processed by a task."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be processed"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source = models.ForeignKey(MonitoringSource, on_delete=models.PROTECT, related_name="events")
    received_at = models.DateTimeField()
    payload = models.JSONField()
    size = models.PositiveIntegerField()
    dedup_keys = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    # What processing did, per alert: [{"dedup_key", "status", "action", "ticket"}].
    outcome = models.JSONField(default=list, blank=True)
    last_error = models.TextField(blank=True)
    replay_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering: ClassVar[list[str]] = ["-received_at", "-pk"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["organization", "source", "-received_at"], name="inboundevent_org_source"),
            # The sweep that picks up events whose task message was lost reads only the pending ones.
            models.Index(fields=["received_at"], condition=Q(status="pending"), name="inboundevent_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.source} event {self.public_id}"


class Delivery(TenantOwnedModel):
    """The audit trail of one POST to a source's intake URL, accepted or rejected."""

    class Result(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        INVALID = "invalid", "Rejected: invalid"
        TOO_LARGE = "too_large", "Rejected: too large"
        BAD_SIGNATURE = "bad_signature", "Rejected: bad signature"

    source = models.ForeignKey(MonitoringSource, on_delete=models.PROTECT, related_name="deliveries")
    received_at = models.DateTimeField()
    size = models.PositiveIntegerField()
    result = models.CharField(max_length=16, choices=Result.choices)
    status_code = models.PositiveSmallIntegerField()
    errors = models.JSONField(default=list, blank=True)
    body_excerpt = models.TextField(blank=True, help_text="The first 2 KiB of a rejected body.")
    event = models.ForeignKey(InboundEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering: ClassVar[list[str]] = ["-received_at", "-pk"]
        verbose_name_plural = "deliveries"
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["organization", "source", "-received_at"], name="delivery_org_source"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.result} at {self.received_at:%Y-%m-%d %H:%M:%S}"


class AlertGroup(TenantOwnedModel):
    """One alert (a source's dedup key) from its first trigger until it resolves: at most one open per key."""

    class State(models.TextChoices):
        FIRING = "firing", "Firing (ticket open)"
        SUPPRESSED = "suppressed", "Suppressed by maintenance"
        RESOLVED = "resolved", "Resolved"
        RESOLVED_IN_MAINTENANCE = "resolved_in_maintenance", "Resolved within maintenance"

    source = models.ForeignKey(MonitoringSource, on_delete=models.PROTECT, related_name="alert_groups")
    dedup_key = models.CharField(max_length=255)
    open = models.BooleanField(default=True)
    state = models.CharField(max_length=32, choices=State.choices)
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    occurrences = models.PositiveIntegerField(default=1)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    # While suppressed: when the maintenance that holds it back ends.
    suppressed_until = models.DateTimeField(null=True, blank=True)
    title = models.CharField(max_length=300)
    priority = models.CharField(max_length=2)
    details = models.TextField(blank=True, help_text="Markdown: labels, annotations and links of the first trigger.")

    class Meta:
        ordering: ClassVar[list[str]] = ["-last_seen_at", "-pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["source", "dedup_key"], condition=Q(open=True), name="alertgroup_one_open_per_key"
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["organization", "source", "-last_seen_at"], name="alertgroup_org_source"),
            models.Index(
                fields=["suppressed_until"], condition=Q(state="suppressed", open=True), name="alertgroup_held"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.dedup_key}"
