import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxMessage(models.Model):
    """One notice to deliver: one row per (event, channel, recipient), written in the transaction of the change
    it announces and delivered after commit, at least once, by `outbox_deliver_due`."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        IN_APP = "in_app", "In-app"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        DEAD = "dead", "Dead"

    # "<event key>:<channel>:<recipient id>": the same event enqueued again finds its rows already there.
    idempotency_key = models.CharField(max_length=255, unique=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    subject = models.TextField()
    body = models.TextField()
    link = models.CharField(max_length=500, blank=True, help_text="A path inside the portal, e.g. /o/acme/.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    leased_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, editable=False)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="outbox_pending_due"),
            # Dead letters are few among ever more sent rows; /healthz counts them on every probe.
            models.Index(fields=["created_at"], condition=Q(status="dead"), name="outbox_dead"),
        ]

    def __str__(self) -> str:
        return self.idempotency_key


class Notification(models.Model):
    """An in-app notice, shown to its recipient until they mark it read."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    subject = models.TextField()
    body = models.TextField()
    link = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    read_at = models.DateTimeField(null=True, blank=True)
    # One notice per outbox message: delivering a message twice finds the notice it already made.
    source = models.OneToOneField(OutboxMessage, on_delete=models.CASCADE, related_name="notification")

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_recent"),
            # The header's unread count runs on every page.
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"),
        ]

    def __str__(self) -> str:
        return self.subject
