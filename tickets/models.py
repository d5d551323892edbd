import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenancy.models import AccessGrant, TenantOwnedModel


class TicketType(models.TextChoices):
    QUESTION = "question", "Question (guidance)"
    INCIDENT = "incident", "Incident"
    CHANGE_REQUEST = "change_request", "Change request"
    ARCHITECTURE_REVIEW = "architecture_review", "Architecture review"
    DEPLOYMENT_PLANNING = "deployment_planning", "Deployment planning"


class Priority(models.TextChoices):
    P1 = "P1", "P1 — critical"
    P2 = "P2", "P2 — high"
    P3 = "P3", "P3 — normal"
    P4 = "P4", "P4 — low"


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    WAITING_ON_CUSTOMER = "waiting_on_customer", "Waiting on customer"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


class Source(models.TextChoices):
    PORTAL = "portal", "Portal"
    API = "api", "API"
    MONITORING = "monitoring", "Monitoring"


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.WAITING_ON_CUSTOMER)


class TicketCounter(TenantOwnedModel):
    """The last ticket number handed out in an organization; its row lock serialises numbering per tenant."""

    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["organization"], name="ticketcounter_one_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.organization}: {self.last_number}"


# A clock shows as at risk in the last quarter of its window (from received_at to its deadline): where the default
# 75 % warning threshold lies.
SLA_WARNING_PART = 4


class Ticket(TenantOwnedModel):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.PositiveIntegerField()
    reference = models.CharField(max_length=32)
    subject = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    type = models.CharField(max_length=32, choices=TicketType.choices)
    priority = models.CharField(max_length=2, choices=Priority.choices)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.NEW)
    guidance_only = models.BooleanField(
        default=False, help_text="A Standard organization's change request: WALT advises and does not change anything."
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(help_text="When the request reached the portal: the SLA starts here.")
    first_responded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField()
    # The SLA summary: written only by `sla` (through ticket_sla_summary_set) in the same transaction as its clocks,
    # so lists and the queue sort and filter one indexed table. The clocks in `sla` stay the truth.
    sla_first_response_state = models.CharField(max_length=16, blank=True)
    sla_first_response_due_at = models.DateTimeField(null=True, blank=True)
    sla_first_response_remaining_seconds = models.FloatField(null=True, blank=True)
    sla_resolution_state = models.CharField(max_length=16, blank=True)
    sla_resolution_due_at = models.DateTimeField(null=True, blank=True)
    sla_resolution_remaining_seconds = models.FloatField(null=True, blank=True)
    sla_policy_version = models.PositiveIntegerField(null=True, blank=True)
    sla_next_due_at = models.DateTimeField(null=True, blank=True, help_text="The earliest running deadline.")
    # Derived from the summary when it is written, so that "at risk" and "breached" are index ranges, not arithmetic
    # on every open ticket: the earliest deadline still to be met (passed ones included), and when the first clock
    # still to be met enters the last 1/SLA_WARNING_PART of its window (from received_at to its deadline).
    sla_risk_due_at = models.DateTimeField(null=True, blank=True)
    sla_at_risk_from = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["organization", "number"], name="ticket_number_unique_per_org"),
            models.CheckConstraint(
                condition=Q(first_responded_at__isnull=True) | Q(first_responded_at__gte=models.F("received_at")),
                name="ticket_responded_after_received",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["resolved", "closed"]) | Q(resolved_at__isnull=False),
                name="ticket_resolved_has_resolved_at",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["organization", "-received_at"], name="ticket_org_received"),
            models.Index(fields=["organization", "status", "priority"], name="ticket_org_status_priority"),
            models.Index(
                fields=["sla_next_due_at"], name="ticket_next_due", condition=Q(sla_next_due_at__isnull=False)
            ),
            # The engineers' queue in its order. Its trailing columns are every one the queue filters and counts on,
            # so that finding a page's ids and counting open work (100,000 rows at scale) read this index only, not
            # the table. Key columns rather than INCLUDE, which SQLite lacks.
            models.Index(
                fields=[
                    "priority",
                    "received_at",
                    "id",
                    "organization",
                    "assignee",
                    "type",
                    "status",
                    "source",
                    "sla_risk_due_at",
                    "sla_at_risk_from",
                ],
                name="ticket_open_queue",
                condition=Q(status__in=["new", "open", "waiting_on_customer"]),
            ),
            # The "at risk" and "breached" views: soonest deadline first, then the queue's order.
            models.Index(
                fields=["sla_risk_due_at", "priority", "received_at", "id", "sla_at_risk_from"],
                name="ticket_open_at_risk",
                condition=Q(status__in=["new", "open", "waiting_on_customer"]),
            ),
            # "Mine" and "unassigned" (also take-next's head) in the queue's order, the other sorts the queue offers,
            # the change marker its live refresh polls, and today's stopped clocks for compliance.
            models.Index(
                fields=["assignee", "priority", "received_at"],
                name="ticket_open_assignee_queue",
                condition=Q(status__in=["new", "open", "waiting_on_customer"]),
            ),
            models.Index(
                fields=["sla_next_due_at"],
                name="ticket_open_next_due",
                condition=Q(status__in=["new", "open", "waiting_on_customer"]),
            ),
            models.Index(
                fields=["-last_activity_at"],
                name="ticket_open_activity",
                condition=Q(status__in=["new", "open", "waiting_on_customer"]),
            ),
            models.Index(fields=["updated_at"], name="ticket_updated"),
            models.Index(
                fields=["first_responded_at"],
                name="ticket_first_responded",
                condition=Q(first_responded_at__isnull=False),
            ),
            models.Index(fields=["resolved_at"], name="ticket_resolved", condition=Q(resolved_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Message(TenantOwnedModel):
    """One entry of a ticket's conversation: a public reply, or an internal note that customers never see."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    body = models.TextField()
    internal = models.BooleanField(default=False)
    by_staff = models.BooleanField()

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "pk"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["ticket", "created_at"], name="message_ticket_created"),
        ]

    def __str__(self) -> str:
        return f"{'Note' if self.internal else 'Reply'} on {self.ticket_id}"


class Attachment(TenantOwnedModel):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to="attachments/%Y/%m/", max_length=255)
    filename = models.CharField(max_length=150, help_text="The sanitized name the file is downloaded as.")
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    internal = models.BooleanField(default=False, help_text="Attached to an internal note: staff only.")

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.filename


class VideoCall(TenantOwnedModel):
    """A customer's request for a video call, at WALT's discretion: never a response and never an SLA fact."""

    class State(models.TextChoices):
        REQUESTED = "requested", "Requested"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="video_call")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True, help_text="What the customer would like to discuss.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.REQUESTED)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    link = models.URLField(blank=True)
    reason = models.TextField(blank=True, help_text="Why the call was declined.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Video call on {self.ticket_id}: {self.state}"


class TicketEvent(TenantOwnedModel):
    """The ticket's audit trail: who changed what, when. Rows are only ever added."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened"
        STATUS_CHANGED = "status_changed", "Status changed"
        PRIORITY_CHANGED = "priority_changed", "Priority changed"
        TYPE_CHANGED = "type_changed", "Type changed"
        ASSIGNED = "assigned", "Assigned"
        CHANGE_PERFORMED = "change_performed", "Change performed"
        VIDEO_CALL = "video_call", "Video call"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    detail = models.JSONField(default=dict)
    access_grant = models.ForeignKey(AccessGrant, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=~Q(kind="change_performed") | Q(access_grant__isnull=False),
                name="ticketevent_change_names_its_grant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"


class TakeNextSkip(TenantOwnedModel):
    """An engineer passed over the head of the queue with "take next": who, which ticket, why; `created_at` is when.

    The queue's order is the SLA's promise (priority, then time received), so every exception to it is on record.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    engineer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-pk"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["organization", "-created_at"], name="takenextskip_org_created"),
        ]

    def __str__(self) -> str:
        return f"{self.engineer_id} skipped {self.ticket_id}"
