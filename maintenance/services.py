"""Writes: windows, cancellations, notices, their e-mails and the calendar feed's secret."""

import secrets
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo

from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Q
from django.urls import reverse

from core.exceptions import ApplicationError
from maintenance.models import (
    CalendarFeed,
    Notice,
    NoticeDismissal,
    OccurrenceCancellation,
    OneOffWindow,
    RecurringWindow,
    Severity,
)
from maintenance.selectors import Occurrence, calendar_feed_get, occurrence_conflicts, occurrence_get
from maintenance.tasks import send_due_notices as send_due_notices_task
from notifications.services import Notice as OutgoingNotice
from notifications.services import notification_enqueue_many
from tenancy.models import Membership, Organization, Region, User
from tenancy.timezones import format_in_timezone

MAX_LEAD_TIME = timedelta(days=30)
LISTED_CONFLICTS = 3  # a message naming more windows than this is no clearer
RECURRING_OVERLAP_CHECK_SPAN = timedelta(days=9)  # a week, plus a day either side for occurrences crossing midnight


def _described(occurrence: Occurrence) -> str:
    return f"“{occurrence.title}” {occurrence.starts_at:%Y-%m-%d %H:%M}–{occurrence.ends_at:%Y-%m-%d %H:%M} UTC"


def _overlap_error(conflicts: Sequence[str], *, scope: str, field: str = "starts_at") -> ApplicationError:
    listed = "; ".join(conflicts[:LISTED_CONFLICTS])
    more = f" and {len(conflicts) - LISTED_CONFLICTS} more" if len(conflicts) > LISTED_CONFLICTS else ""
    return ApplicationError(
        f"This window overlaps another window of the same scope ({scope}): {listed}{more}. Choose other times, or "
        "cancel the other occurrence first.",
        errors=[{"field": field, "code": "overlap", "detail": f"Overlaps {listed}{more}."}],
    )


def _inverted_error(field: str = "ends_at") -> ApplicationError:
    return ApplicationError(
        "A window must end after it starts.",
        errors=[{"field": field, "code": "inverted", "detail": "Choose an end after the start."}],
    )


def _lock_scope(*, region: str, organizations: Sequence[Organization]) -> None:
    # Two staff members adding overlapping windows at once would both pass the check: serialize per scope. The
    # region's recurring rules (seeded for every region) and the named organizations are the scope's rows.
    if region:
        list(RecurringWindow.objects.select_for_update().filter(region=region).values_list("pk", flat=True))
    else:
        list(
            Organization.objects.select_for_update()
            .filter(pk__in=[organization.pk for organization in organizations])
            .values_list("pk", flat=True)
        )


def one_off_window_validate(
    *,
    starts_at: datetime,
    ends_at: datetime,
    region: str,
    organizations: Sequence[Organization],
    window: OneOffWindow | None = None,
) -> None:
    """Refuse an inverted window, a scope that is not exactly one region or some organizations, and overlaps."""
    if ends_at <= starts_at:
        raise _inverted_error()
    if bool(region) == bool(organizations):
        raise ApplicationError(
            "A one-off window applies to a whole region or to named organizations: choose one of the two.",
            errors=[{"field": "region", "code": "scope", "detail": "Choose a region or organizations, not both."}],
        )
    if region and region not in Region.values:
        raise ApplicationError(
            "Unknown region.", errors=[{"field": "region", "code": "invalid_choice", "detail": region}]
        )
    conflicts = occurrence_conflicts(
        starts_at=starts_at, ends_at=ends_at, region=region, organizations=organizations, exclude_one_off=window
    )
    if conflicts:
        names = ", ".join(sorted({org.name for conflict in conflicts for org in conflict.organizations}))
        scope = f"region {region}" if region else f"organizations {names}"
        raise _overlap_error([_described(conflict) for conflict in conflicts], scope=scope)


@transaction.atomic
def one_off_window_create(
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    region: str,
    organizations: Sequence[Organization],
    created_by: User | None,
) -> OneOffWindow:
    _lock_scope(region=region, organizations=organizations)
    one_off_window_validate(starts_at=starts_at, ends_at=ends_at, region=region, organizations=organizations)
    window = OneOffWindow(
        title=title.strip(), region=region, starts_at=starts_at, ends_at=ends_at, created_by=created_by
    )
    window.full_clean()
    window.save()
    window.organizations.set(organizations)
    return window


@transaction.atomic
def one_off_window_save(*, window: OneOffWindow, organizations: Sequence[Organization]) -> OneOffWindow:
    """Save an edited window (the admin's change form) and move the notices that concern it with it."""
    _lock_scope(region=window.region, organizations=organizations)
    one_off_window_validate(
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        region=window.region,
        organizations=organizations,
        window=window,
    )
    window.save()
    window.organizations.set(organizations)
    Notice.objects.filter(one_off_window=window).update(starts_at=window.starts_at, ends_at=window.ends_at)
    return window


def recurring_window_validate(*, window: RecurringWindow) -> None:
    """Refuse a rule whose occurrences would overlap another rule of its region or a one-off window of its region."""
    if window.duration <= timedelta(0):
        raise _inverted_error(field="duration")
    if window.active_until is not None and window.active_until <= window.active_from:
        raise _inverted_error(field="active_until")
    scope = f"region {window.region}"
    for other in RecurringWindow.objects.filter(region=window.region).exclude(pk=window.pk):
        # Rules repeat weekly, so the first week both are in force shows every clash there will ever be.
        start = max(window.active_from, other.active_from) - timedelta(days=1)
        ends = [moment for moment in (window.active_until, other.active_until) if moment is not None]
        end = min([*ends, start + RECURRING_OVERLAP_CHECK_SPAN])
        theirs = other.spans_overlapping(start, end)
        if any(a < d and c < b for a, b in window.spans_overlapping(start, end) for c, d in theirs):
            raise _overlap_error([f"“{other.name}” ({other.schedule_label})"], scope=scope, field="start_time")
    one_offs = OneOffWindow.objects.filter(
        region=window.region, cancelled_at__isnull=True, ends_at__gt=window.active_from
    )
    if window.active_until is not None:
        one_offs = one_offs.filter(starts_at__lt=window.active_until)
    for one_off in one_offs:
        if window.spans_overlapping(one_off.starts_at, one_off.ends_at):
            described = f"“{one_off.title}” {one_off.starts_at:%Y-%m-%d %H:%M}–{one_off.ends_at:%Y-%m-%d %H:%M} UTC"
            raise _overlap_error([described], scope=scope, field="start_time")


@transaction.atomic
def recurring_window_save(*, window: RecurringWindow) -> RecurringWindow:
    _lock_scope(region=window.region, organizations=())
    window.full_clean()
    recurring_window_validate(window=window)
    window.save()
    return window


def occurrence_cancellable(*, key: str, now: datetime) -> Occurrence:
    """The occurrence `key` names, if it may still be cancelled; ApplicationError otherwise."""
    try:
        occurrence = occurrence_get(key=key)
    except LookupError:
        raise ApplicationError(
            "There is no such maintenance window.",
            errors=[{"field": "occurrence", "code": "not_found", "detail": "Choose a window from the calendar."}],
        ) from None
    if occurrence.cancelled:
        raise ApplicationError(
            "This window is already cancelled.",
            errors=[{"field": "occurrence", "code": "cancelled", "detail": "Already cancelled."}],
        )
    if occurrence.ends_at <= now:
        raise ApplicationError(
            "This window is over; it cannot be cancelled any more.",
            errors=[{"field": "occurrence", "code": "past", "detail": "The window has ended."}],
        )
    return occurrence


@transaction.atomic
def occurrence_cancel(*, key: str, reason: str, cancelled_by: User, now: datetime) -> Occurrence:
    """Cancel one occurrence: a recurring window's occurrence, or a one-off window. Past windows stay as they were."""
    occurrence = occurrence_cancellable(key=key, now=now)
    if occurrence.kind == "one_off":
        OneOffWindow.objects.filter(public_id=occurrence.window_id).update(
            cancelled_at=now, cancelled_by=cancelled_by, cancel_reason=reason.strip()
        )
    else:
        OccurrenceCancellation.objects.create(
            recurring_window=RecurringWindow.objects.get(public_id=occurrence.window_id),
            starts_at=occurrence.starts_at,
            reason=reason.strip(),
            cancelled_by=cancelled_by,
        )
    return occurrence_get(key=key)


def notice_validate(
    *,
    title: str,
    body: str,
    severity: str,
    occurrence_key: str,
    regions: Sequence[str],
    lead_time: timedelta,
    current_key: str = "",
) -> Occurrence:
    """Check a notice's fields and return the occurrence it concerns. A new notice may not concern a cancelled
    window; an existing one keeps its own (`current_key`) even after it was cancelled or ended."""
    errors = []
    if not title.strip():
        errors.append({"field": "title", "code": "required", "detail": "Give the notice a title."})
    if not body.strip():
        errors.append({"field": "body", "code": "required", "detail": "Say what will happen and what to expect."})
    if severity not in Severity.values:
        errors.append({"field": "severity", "code": "invalid_choice", "detail": severity})
    if unknown := sorted(set(regions) - set(Region.values)):
        errors.append({"field": "regions", "code": "invalid_choice", "detail": f"Unknown regions: {unknown}"})
    if not timedelta(0) <= lead_time <= MAX_LEAD_TIME:
        errors.append({"field": "lead_time", "code": "range", "detail": "Between 0 and 30 days before the window."})
    if errors:
        raise ApplicationError("The notice has invalid fields.", errors=errors)
    try:
        occurrence = occurrence_get(key=occurrence_key)
    except LookupError:
        raise ApplicationError(
            "There is no such maintenance window.",
            errors=[{"field": "occurrence", "code": "not_found", "detail": "Choose a window from the list."}],
        ) from None
    if occurrence.cancelled and occurrence_key != current_key:
        raise ApplicationError(
            "This window is cancelled; a notice about it would tell customers the wrong thing.",
            errors=[{"field": "occurrence", "code": "cancelled", "detail": "The window is cancelled."}],
        )
    return occurrence


def _notice_apply(
    notice: Notice,
    *,
    title: str,
    body: str,
    severity: str,
    occurrence: Occurrence,
    regions: Sequence[str],
    organizations: Sequence[Organization],
    lead_time: timedelta,
) -> None:
    if not regions and not organizations:
        # The natural audience is the window's own scope.
        regions = [occurrence.region] if occurrence.region else []
        organizations = occurrence.organizations
    notice.title, notice.body, notice.severity, notice.lead_time = title.strip(), body, severity, lead_time
    notice.regions = sorted(set(regions))
    notice.starts_at, notice.ends_at = occurrence.starts_at, occurrence.ends_at
    if occurrence.kind == "one_off":
        notice.one_off_window = OneOffWindow.objects.get(public_id=occurrence.window_id)
        notice.recurring_window = None
    else:
        notice.recurring_window = RecurringWindow.objects.get(public_id=occurrence.window_id)
        notice.one_off_window = None
    notice.full_clean()
    notice.save()
    notice.organizations.set(organizations)


@transaction.atomic
def notice_create(
    *,
    title: str,
    body: str,
    severity: str,
    occurrence_key: str,
    regions: Sequence[str],
    organizations: Sequence[Organization],
    lead_time: timedelta,
    created_by: User,
    publish: bool,
    now: datetime,
) -> Notice:
    """Write a notice about one occurrence; without regions or organizations it concerns the window's own scope."""
    occurrence = notice_validate(
        title=title, body=body, severity=severity, occurrence_key=occurrence_key, regions=regions, lead_time=lead_time
    )
    notice = Notice(created_by=created_by)
    _notice_apply(
        notice,
        title=title,
        body=body,
        severity=severity,
        occurrence=occurrence,
        regions=regions,
        organizations=organizations,
        lead_time=lead_time,
    )
    if publish:
        notice_publish(notice=notice, now=now)
    return notice


@transaction.atomic
def notice_update(
    *,
    notice: Notice,
    title: str,
    body: str,
    severity: str,
    occurrence_key: str,
    regions: Sequence[str],
    organizations: Sequence[Organization],
    lead_time: timedelta,
) -> Notice:
    """Edit a notice. Nothing is sent again by editing: a published notice's readers hear of a change only through
    `notice_send_update`."""
    occurrence = notice_validate(
        title=title,
        body=body,
        severity=severity,
        occurrence_key=occurrence_key,
        regions=regions,
        lead_time=lead_time,
        current_key=notice.occurrence_key,
    )
    _notice_apply(
        notice,
        title=title,
        body=body,
        severity=severity,
        occurrence=occurrence,
        regions=regions,
        organizations=organizations,
        lead_time=lead_time,
    )
    return notice


def _kick_sweep() -> None:
    # Only a wake-up, so a notice already inside its lead time goes out now rather than at the next beat tick; the
    # minute sweep sends it anyway when the broker is down.
    transaction.on_commit(send_due_notices_task.delay, robust=True)


@transaction.atomic
def notice_publish(*, notice: Notice, now: datetime) -> Notice:
    if notice.status == Notice.Status.PUBLISHED:
        return notice
    if notice.ends_at <= now:
        raise ApplicationError(
            "This window is over; publishing a notice about it would only confuse.",
            errors=[{"field": "status", "code": "past", "detail": "The window has ended."}],
        )
    notice.status, notice.published_at = Notice.Status.PUBLISHED, now
    notice.save(update_fields=["status", "published_at", "updated_at"])
    _kick_sweep()
    return notice


@transaction.atomic
def notice_send_update(*, notice: Notice, now: datetime) -> bool:
    """Ask for the edited notice to be e-mailed again, as an update. False when there is nothing to update yet: the
    announcement has not gone out, and will carry the current text when it does."""
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    if notice.status != Notice.Status.PUBLISHED:
        raise ApplicationError(
            "Only a published notice can be sent as an update; publish it first.",
            errors=[{"field": "status", "code": "draft", "detail": "This notice is a draft."}],
        )
    if notice.ends_at <= now:
        raise ApplicationError(
            "This window is over; an update would arrive too late.",
            errors=[{"field": "status", "code": "past", "detail": "The window has ended."}],
        )
    if notice.announced_at is None:
        return False
    notice.update_count += 1
    notice.save(update_fields=["update_count", "updated_at"])
    _kick_sweep()
    return True


@transaction.atomic
def notice_dismiss(*, notice: Notice, user: User, now: datetime) -> None:
    """Hide the notice's banner for this person until an update is sent."""
    NoticeDismissal.objects.update_or_create(
        notice=notice, user=user, defaults={"update_count": notice.update_count, "dismissed_at": now}
    )


def _notice_recipients(notice: Notice) -> dict[Organization, list[User]]:
    """Every active member of every affected organization, by organization."""
    affected = Organization.objects.filter(Q(region__in=notice.regions) | Q(pk__in=notice.organizations.values("pk")))
    # A sweep across tenants reads memberships of many organizations at once, by design.
    memberships = Membership.objects.filter(organization__in=affected, user__is_active=True).select_related(
        "user", "organization"
    )
    people: dict[Organization, list[User]] = defaultdict(list)
    for membership in memberships.order_by("organization_id", "user_id"):
        people[membership.organization].append(membership.user)
    return people


def _notice_messages(notice: Notice, *, update: int) -> list[OutgoingNotice]:
    # One key per notice (and update) and person: someone in two affected organizations is told once.
    event_key = f"maintenance-notice:{notice.public_id}" + (f":update-{update}" if update else "")
    prefix = "Updated maintenance notice" if update else "Maintenance"
    severity = Severity(notice.severity).label
    messages = []
    for organization, people in _notice_recipients(notice).items():
        # One text per organization, so in the organization's timezone (with UTC beside it), as on its pages.
        zone = _organization_zone(organization)
        starts, ends = format_in_timezone(notice.starts_at, zone), format_in_timezone(notice.ends_at, zone)
        messages.append(
            OutgoingNotice(
                event_key=event_key,
                recipients=people,
                subject=f"{prefix}: {notice.title} ({starts})",
                body=f"{notice.title}\n\nWhen: {starts} until {ends}\nImpact: {severity}\n\n{notice.body}\n\n"
                f"Every upcoming maintenance window of {organization.name}:",
                link=reverse("maintenance-page", kwargs={"org_slug": organization.slug}),
            )
        )
    return messages


@transaction.atomic
def notice_send_due(*, now: datetime) -> int:
    """The minute sweep: e-mail each published notice whose lead time has come (once), and each update staff asked
    for (once). Returns how many outbox messages are new.

    Exactly once per notice, update and person: the notice rows are claimed with SKIP LOCKED and marked in the same
    transaction as the outbox rows, whose keys are unique; a sweep that runs twice finds nothing left to do.
    """
    announce_at = ExpressionWrapper(F("starts_at") - F("lead_time"), output_field=DateTimeField())
    due = (
        Notice.objects.select_for_update(skip_locked=True)
        .annotate(due_at=announce_at)
        .filter(status=Notice.Status.PUBLISHED, ends_at__gt=now, due_at__lte=now)
        .filter(Q(announced_at__isnull=True) | Q(updates_sent__lt=F("update_count")))
        .order_by("starts_at", "pk")
    )
    outgoing: list[OutgoingNotice] = []
    for notice in due:
        # The first announcement already carries every edit made before it, so it settles pending updates too.
        outgoing += _notice_messages(notice, update=0 if notice.announced_at is None else notice.update_count)
        notice.announced_at = notice.announced_at or now
        notice.updates_sent = notice.update_count
        notice.save(update_fields=["announced_at", "updates_sent", "updated_at"])
    return notification_enqueue_many(notices=outgoing) if outgoing else 0


def _organization_zone(organization: Organization) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(organization.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC  # a zone since removed from the tz database must not stop the sweep


@transaction.atomic
def calendar_feed_ensure(*, organization: Organization) -> CalendarFeed:
    """The organization's feed, made on first use."""
    feed = calendar_feed_get(organization=organization)
    if feed is not None:
        return feed
    try:
        with transaction.atomic():
            return CalendarFeed.objects.create(organization=organization, token=secrets.token_urlsafe(32))
    except IntegrityError:  # a concurrent first visit made it
        return CalendarFeed.objects.for_organization(organization).get()


@transaction.atomic
def calendar_feed_rotate(*, organization: Organization, rotated_by: User) -> CalendarFeed:
    """Replace the feed's secret: calendars subscribed to the old URL get 404 from now on."""
    feed = calendar_feed_ensure(organization=organization)
    feed.token, feed.rotated_by = secrets.token_urlsafe(32), rotated_by
    feed.save(update_fields=["token", "rotated_by", "updated_at"])
    return feed
