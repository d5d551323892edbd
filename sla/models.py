from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenancy.models import Contract, TenantOwnedModel
from tickets.models import Ticket


class PolicyVersion(TenantOwnedModel):
    """One version of a contract's SLA overrides. Versions are only added: each records who changed what, and why.

    A contract without versions runs on its package defaults (version 0).
    """

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    overrides = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    reason = models.TextField()

    class Meta:
        ordering: ClassVar[list[str]] = ["organization", "-number"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["organization", "number"], name="policyversion_number_unique_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} SLA v{self.number}"


class ClockKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    RESOLUTION = "resolution", "Resolution"


class ClockState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"


class Clock(TenantOwnedModel):
    """One SLA clock of a ticket. Reopening a ticket arms a new resolution clock with the next epoch.

    Time is counted in the clock's calendar: `remaining_seconds` of open time were left at `anchored_at`
    (the start, or the last resume or recompute), so `due_at` = calendar.add(anchored_at, remaining_seconds).
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=ClockKind.choices)
    epoch = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=16, choices=ClockState.choices, default=ClockState.RUNNING)
    started_at = models.DateTimeField()
    target_seconds = models.PositiveIntegerField()
    anchored_at = models.DateTimeField()
    remaining_seconds = models.FloatField()
    due_at = models.DateTimeField(null=True, blank=True, help_text="Empty while paused.")
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=64, blank=True)
    paused_seconds = models.FloatField(default=0, help_text="Wall-clock time spent paused, all pauses together.")
    stopped_at = models.DateTimeField(null=True, blank=True, help_text="When the response or resolution came.")
    breached_at = models.DateTimeField(null=True, blank=True, help_text="The deadline that was missed.")
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="+")
    policy_version = models.PositiveIntegerField(help_text="0: the package defaults.")
    policy = models.JSONField(help_text="The complete policy the clock runs under: its snapshot.")

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["ticket", "kind", "epoch"], name="clock_one_per_ticket_kind_epoch"),
            models.CheckConstraint(
                condition=~Q(state="running") | Q(due_at__isnull=False), name="clock_running_has_deadline"
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            # The sweep reads only these: cheap however many clocks have ever existed.
            models.Index(fields=["due_at"], name="clock_running_due", condition=Q(state="running")),
            models.Index(
                fields=["warn_at"], name="clock_warning_due", condition=Q(state="running", warned_at__isnull=True)
            ),
            models.Index(fields=["ticket", "kind", "-epoch"], name="clock_ticket_kind_epoch"),
            # Compliance reports read clocks by when they started: one organization's, and every organization's month
            # (organization_id = ANY(…), one range per organization).
            models.Index(fields=["organization", "started_at"], name="clock_org_started"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.epoch} of ticket {self.ticket_id}: {self.state}"


class Record(TenantOwnedModel):
    """A warning or a breach, recorded exactly once per clock (and so per ticket, kind and epoch)."""

    class Kind(models.TextChoices):
        WARNING = "warning", "Warning"
        BREACH = "breach", "Breach"

    class DetectedBy(models.TextChoices):
        SWEEP = "sweep", "Deadline sweep"
        RESPONSE = "response", "Late response"
        RESOLUTION = "resolution", "Late resolution"

    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="records")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    clock_kind = models.CharField(max_length=16, choices=ClockKind.choices)
    epoch = models.PositiveIntegerField()
    due_at = models.DateTimeField(help_text="The deadline (for a warning: the warning point).")
    recorded_at = models.DateTimeField()
    detected_by = models.CharField(max_length=16, choices=DetectedBy.choices)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["clock", "kind"], name="record_once_per_clock_and_kind"),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["organization", "recorded_at"], name="record_org_recorded"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.clock_kind} #{self.epoch} on ticket {self.ticket_id}"

    @property
    def lateness_seconds(self) -> float:
        return (self.recorded_at - self.due_at).total_seconds()


class ClockEvent(TenantOwnedModel):
    """What happened to a clock, in order: the explanation of its deadline and the source of the reports."""

    class Kind(models.TextChoices):
        STARTED = "started", "Started"
        PAUSED = "paused", "Paused"
        RESUMED = "resumed", "Resumed"
        RECOMPUTED = "recomputed", "Recomputed"
        REBASELINED = "rebaselined", "Re-baselined"
        WARNED = "warned", "Warned"
        MET = "met", "Met"
        BREACHED = "breached", "Breached"
        STOPPED = "stopped", "Stopped"

    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True, help_text="The deadline after this event.")
    detail = models.JSONField(default=dict)

    class Meta:
        ordering: ClassVar[list[str]] = ["at", "pk"]
        indexes: ClassVar[list[models.Index]] = [
            # The reports' time paused: a tenant's pauses are a few of its many events.
            models.Index(fields=["organization"], condition=Q(kind="paused"), name="sla_clockevent_pauses"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"
