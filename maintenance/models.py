"""Maintenance windows and the notices that announce them.

Windows are `[starts_at, ends_at)` in UTC. Recurring windows belong to a region and are stored as a rule (a UTC
start time, a duration, weekdays); their occurrences are materialized on demand by the selectors, minus
cancellations. One-off windows name a region or organizations. Windows and notices are WALT-wide rows (one window
or notice concerns many organizations), so they are not tenant-owned; the calendar feed is.
"""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.models import TimestampedModel
from tenancy.models import Organization, Region, TenantOwnedModel

ISO_WEEKDAYS = {1: "Monday", 2: "Tuesday", 3: "Wednesday", 4: "Thursday", 5: "Friday", 6: "Saturday", 7: "Sunday"}
MAX_RECURRING_DURATION = timedelta(days=1)  # longer, and a daily rule would overlap itself
DEFAULT_LEAD_TIME = timedelta(hours=24)


class Severity(models.TextChoices):
    INFO = "info", "Information: no interruption expected"
    MINOR = "minor", "Minor: short interruptions possible"
    MAJOR = "major", "Major: services unavailable"


class RecurringWindow(TimestampedModel):
    """A region's regular window, e.g. US every day 06:00–07:00 UTC, in force from `active_from` on."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    region = models.CharField(max_length=2, choices=Region.choices)
    start_time = models.TimeField(help_text="Start of each occurrence, in UTC.")
    duration = models.DurationField(help_text="Length of each occurrence (at most a day), e.g. 01:00:00.")
    weekdays = models.JSONField(
        default=list,
        blank=True,
        help_text="ISO weekdays of the start in UTC, 1 (Monday) to 7 (Sunday), e.g. [6, 7]; empty means every day.",
    )
    active_from = models.DateTimeField(help_text="The first occurrence starts at or after this moment.")
    active_until = models.DateTimeField(null=True, blank=True, help_text="No occurrence starts at or after this.")

    class Meta:
        ordering: ClassVar[list[str]] = ["region", "start_time"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(duration__gt=timedelta(0), duration__lte=MAX_RECURRING_DURATION),
                name="recurringwindow_duration_within_a_day",
                violation_error_message="Each occurrence lasts longer than zero and at most 24 hours.",
            ),
            models.CheckConstraint(
                condition=Q(active_until__isnull=True) | Q(active_until__gt=models.F("active_from")),
                name="recurringwindow_active_until_after_from",
                violation_error_message="“Active until” must come after “active from”.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        weekdays = self.weekdays
        if not isinstance(weekdays, list) or any(day not in ISO_WEEKDAYS for day in weekdays):
            raise ValidationError({"weekdays": "List ISO weekdays 1 (Monday) to 7 (Sunday), or leave it empty."})

    @property
    def schedule_label(self) -> str:
        days = "daily" if not self.weekdays else ", ".join(ISO_WEEKDAYS[day][:3] for day in sorted(self.weekdays))
        end = (datetime.combine(date(2000, 1, 1), self.start_time) + self.duration).time()
        return f"{days} {self.start_time:%H:%M}–{end:%H:%M} UTC"

    def occurrence_start_on(self, day: date) -> datetime | None:
        """The start of the occurrence beginning on `day` (UTC), or None when the rule does not run that day."""
        if self.weekdays and day.isoweekday() not in self.weekdays:
            return None
        starts_at = datetime.combine(day, self.start_time, tzinfo=UTC)
        if starts_at < self.active_from or (self.active_until is not None and starts_at >= self.active_until):
            return None
        return starts_at

    def spans_overlapping(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """`[starts_at, ends_at)` of the occurrences overlapping `[start, end)`, cancelled or not."""
        spans = []
        # An occurrence that began the day before (it lasts a day at most) may still run at `start`.
        day = (start - self.duration).date() - timedelta(days=1)
        while day <= end.date():
            starts_at = self.occurrence_start_on(day)
            day += timedelta(days=1)
            if starts_at is not None and starts_at < end and start < starts_at + self.duration:
                spans.append((starts_at, starts_at + self.duration))
        return spans


class OneOffWindow(TimestampedModel):
    """A single window for a whole region, or for named organizations only."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=200)
    region = models.CharField(
        max_length=2,
        choices=Region.choices,
        blank=True,
        help_text="The region it applies to; empty when it names organizations.",
    )
    organizations = models.ManyToManyField(Organization, blank=True, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Cancelled windows stay, so the notices that concern them keep pointing at something.
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cancel_reason = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["starts_at"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="oneoffwindow_ends_after_start",
                violation_error_message="A window must end after it starts.",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["starts_at", "ends_at"], name="oneoffwindow_span"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d %H:%M} UTC)"


class OccurrenceCancellation(TimestampedModel):
    """One occurrence of a recurring window that will not happen."""

    recurring_window = models.ForeignKey(RecurringWindow, on_delete=models.CASCADE, related_name="cancellations")
    starts_at = models.DateTimeField(help_text="Start of the cancelled occurrence, in UTC.")
    reason = models.TextField(blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar[list[str]] = ["starts_at"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["recurring_window", "starts_at"], name="cancellation_once_per_occurrence"),
        ]

    def __str__(self) -> str:
        return f"{self.recurring_window} at {self.starts_at:%Y-%m-%d %H:%M} UTC, cancelled"


class Notice(TimestampedModel):
    """What support tells customers about one window occurrence: a banner from `starts_at - lead_time` until the
    window ends, and an e-mail to every member of the affected organizations at that moment."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown.")
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.INFO)
    regions = models.JSONField(default=list, blank=True, help_text='Affected regions, e.g. ["US"].')
    organizations = models.ManyToManyField(
        Organization, blank=True, related_name="+", help_text="Affected organizations besides whole regions."
    )
    # The occurrence it concerns: a recurring window's occurrence (rule and start) or a one-off window.
    recurring_window = models.ForeignKey(
        RecurringWindow, on_delete=models.PROTECT, null=True, blank=True, related_name="notices"
    )
    one_off_window = models.ForeignKey(
        OneOffWindow, on_delete=models.PROTECT, null=True, blank=True, related_name="notices"
    )
    starts_at = models.DateTimeField(help_text="Start of the occurrence it concerns, in UTC.")
    ends_at = models.DateTimeField()
    lead_time = models.DurationField(default=DEFAULT_LEAD_TIME, help_text="Announced this long before the start.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # E-mail bookkeeping for the sweep: the announcement once, then each update staff chose to send.
    announced_at = models.DateTimeField(null=True, blank=True)
    update_count = models.PositiveIntegerField(default=0, help_text="Updates staff asked to send.")
    updates_sent = models.PositiveIntegerField(default=0)

    class Meta:
        ordering: ClassVar[list[str]] = ["starts_at", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(recurring_window__isnull=True, one_off_window__isnull=False)
                | Q(recurring_window__isnull=False, one_off_window__isnull=True),
                name="notice_concerns_one_window",
                violation_error_message="A notice concerns one window: a recurring window's occurrence or a one-off.",
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="notice_ends_after_start"),
            models.CheckConstraint(condition=Q(lead_time__gte=timedelta(0)), name="notice_lead_time_not_negative"),
            models.CheckConstraint(
                condition=Q(updates_sent__lte=models.F("update_count")), name="notice_updates_sent_le_requested"
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["ends_at"], condition=Q(status="published"), name="notice_published_until"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def announce_at(self) -> datetime:
        return self.starts_at - self.lead_time

    @property
    def occurrence_key(self) -> str:
        """Matches `Occurrence.key` of the occurrence it concerns."""
        if self.one_off_window is not None:
            return str(self.one_off_window.public_id)
        assert self.recurring_window is not None
        return f"{self.recurring_window.public_id}_{self.starts_at:%Y%m%dT%H%M%SZ}"


class NoticeDismissal(models.Model):
    """A person hid a notice's banner; an update sent afterwards shows it again."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="dismissals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    update_count = models.PositiveIntegerField(default=0, help_text="The notice's update count when dismissed.")
    dismissed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["user", "notice"], name="dismissal_once_per_user_and_notice"),
        ]

    def __str__(self) -> str:
        return f"{self.user} dismissed {self.notice}"


class CalendarFeed(TenantOwnedModel):
    """The secret of an organization's iCalendar feed URL. Rotating it replaces the token: the old URL is gone."""

    token = models.CharField(max_length=64, unique=True)
    rotated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["organization"], name="calendarfeed_one_per_org"),
        ]

    def __str__(self) -> str:
        return f"Calendar feed of {self.organization}"
