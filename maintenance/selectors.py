"""Reads: which maintenance windows concern an organization, and when.

Every window is `[starts_at, ends_at)` in UTC, so a moment exactly at a window's end is outside it. Recurring windows
are materialized here from their rules, minus cancelled occurrences. An organization's maintenance is the union of
its region's windows (recurring and one-off) and the one-off windows that name it.

These are the questions other apps ask (`sla` to pause clocks, `monitoring` to hold alerts back):
`maintenance_active_for`, `maintenance_windows_overlapping`, `maintenance_next_for`, `maintenance_periods` and
`maintenance_ends_at`. They take aware datetimes and know nothing of tickets.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from maintenance.models import (
    MAX_RECURRING_DURATION,
    CalendarFeed,
    Notice,
    NoticeDismissal,
    OccurrenceCancellation,
    OneOffWindow,
    RecurringWindow,
)
from tenancy.models import Organization, Region, User

# maintenance_next_for looks this far ahead for recurring occurrences; one-off windows are found at any distance.
NEXT_SEARCH_LIMIT = timedelta(days=400)
ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Occurrence:
    """One concrete window: a recurring window's occurrence, or a one-off window."""

    key: str  # stable: the one-off window's id, or "<recurring window id>_<start as 20260302T060000Z>"
    kind: str  # "recurring" or "one_off"
    window_id: UUID
    title: str
    starts_at: datetime
    ends_at: datetime
    region: str  # the region it applies to; empty when it names organizations
    organizations: tuple[Organization, ...] = ()  # the named organizations (only the caller's, for a customer)
    cancelled: bool = False

    @property
    def scope(self) -> str:
        return "region" if self.region else "organization"

    @property
    def uid(self) -> str:
        """The iCalendar UID: the same occurrence keeps it in every feed download."""
        return f"{self.key}@maintenance.walt-labs"


def recurring_occurrence_key(window: RecurringWindow, starts_at: datetime) -> str:
    return f"{window.public_id}_{starts_at:%Y%m%dT%H%M%SZ}"


def _require_aware(*moments: datetime) -> None:
    # A naive datetime would be compared as if it were UTC and silently shift every answer by the caller's offset.
    if any(moment.tzinfo is None for moment in moments):
        raise ValueError("maintenance selectors need aware datetimes")


def _recurring_occurrences(
    rules: Iterable[RecurringWindow], start: datetime, end: datetime, *, include_cancelled: bool
) -> list[Occurrence]:
    rules = list(rules)
    # Occurrences that began up to a day (their longest) before `start` may still be running at `start`.
    earliest = start - MAX_RECURRING_DURATION - timedelta(days=1)
    cancelled = set(
        OccurrenceCancellation.objects.filter(
            recurring_window__in=rules, starts_at__gte=earliest, starts_at__lt=end
        ).values_list("recurring_window_id", "starts_at")
    )
    occurrences = []
    for rule in rules:
        for starts_at, ends_at in rule.spans_overlapping(start, end):
            is_cancelled = (rule.pk, starts_at) in cancelled
            if is_cancelled and not include_cancelled:
                continue
            occurrences.append(
                Occurrence(
                    key=recurring_occurrence_key(rule, starts_at),
                    kind="recurring",
                    window_id=rule.public_id,
                    title=rule.name,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    region=rule.region,
                    cancelled=is_cancelled,
                )
            )
    return occurrences


def _rules_between(start: datetime, end: datetime) -> QuerySet[RecurringWindow]:
    return RecurringWindow.objects.filter(active_from__lt=end).filter(
        Q(active_until__isnull=True) | Q(active_until__gt=start - MAX_RECURRING_DURATION)
    )


def _one_off_occurrence(window: OneOffWindow, organizations: tuple[Organization, ...]) -> Occurrence:
    return Occurrence(
        key=str(window.public_id),
        kind="one_off",
        window_id=window.public_id,
        title=window.title,
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        region=window.region,
        organizations=() if window.region else organizations,
        cancelled=window.cancelled_at is not None,
    )


def _one_offs_for(organization: Organization) -> QuerySet[OneOffWindow]:
    named = OneOffWindow.organizations.through.objects.filter(organization=organization).values("oneoffwindow_id")
    return OneOffWindow.objects.filter(cancelled_at__isnull=True).filter(
        Q(region=organization.region) | Q(pk__in=named)
    )


def maintenance_windows_overlapping(*, organization: Organization, start: datetime, end: datetime) -> list[Occurrence]:
    """The organization's windows that overlap `[start, end)`, earliest first, cancelled occurrences left out.

    A window `[s, e)` overlaps when `s < end` and `start < e`: one that ends exactly at `start`, or starts exactly at
    `end`, does not.
    """
    _require_aware(start, end)
    if end <= start:
        return []
    recurring = _recurring_occurrences(
        _rules_between(start, end).filter(region=organization.region), start, end, include_cancelled=False
    )
    one_offs = [
        _one_off_occurrence(window, (organization,))
        for window in _one_offs_for(organization).filter(starts_at__lt=end, ends_at__gt=start)
    ]
    return sorted([*recurring, *one_offs], key=lambda occurrence: (occurrence.starts_at, occurrence.key))


def maintenance_active_for(*, organization: Organization, at: datetime) -> bool:
    """Whether the organization is in maintenance at `at`: `starts_at <= at < ends_at` for one of its windows."""
    return bool(maintenance_windows_overlapping(organization=organization, start=at, end=at + ONE_MICROSECOND))


def maintenance_periods(
    *, organization: Organization, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The organization's time in maintenance around `[start, end)` as disjoint `[from, until)` periods: overlapping
    or touching windows (its region's and its own) are merged. Periods are not clipped to `[start, end)`."""
    periods: list[tuple[datetime, datetime]] = []
    for occurrence in maintenance_windows_overlapping(organization=organization, start=start, end=end):
        if periods and occurrence.starts_at <= periods[-1][1]:
            periods[-1] = (periods[-1][0], max(periods[-1][1], occurrence.ends_at))
        else:
            periods.append((occurrence.starts_at, occurrence.ends_at))
    return periods


def maintenance_ends_at(*, organization: Organization, at: datetime) -> datetime | None:
    """When the maintenance the organization is in at `at` ends (windows that overlap or touch count as one), or
    None when it is not in maintenance at `at`."""
    _require_aware(at)
    until = at + ONE_MICROSECOND
    while True:
        periods = maintenance_periods(organization=organization, start=at, end=until + ONE_MICROSECOND)
        if not periods or not periods[0][0] <= at < periods[0][1]:
            return None
        if periods[0][1] <= until or until - at >= NEXT_SEARCH_LIMIT:
            return periods[0][1]
        until = periods[0][1]  # the period reaches further: look again from its end for a window that continues it


def maintenance_next_for(*, organization: Organization, after: datetime) -> Occurrence | None:
    """The organization's first window starting at or after `after` (a window already running at `after` is not
    "next"), or None."""
    _require_aware(after)
    horizon = timedelta(days=7)  # almost always enough: regions have daily windows
    while True:
        upcoming = [
            occurrence
            for occurrence in maintenance_windows_overlapping(
                organization=organization, start=after, end=after + horizon
            )
            if occurrence.starts_at >= after
        ]
        if upcoming:
            return upcoming[0]
        if horizon >= NEXT_SEARCH_LIMIT:
            break
        horizon = min(horizon * 4, NEXT_SEARCH_LIMIT)
    window = _one_offs_for(organization).filter(starts_at__gte=after).order_by("starts_at").first()
    return None if window is None else _one_off_occurrence(window, (organization,))


def maintenance_calendar(*, start: datetime, end: datetime) -> list[Occurrence]:
    """Every window of every region and organization overlapping `[start, end)`, cancelled ones included (and
    flagged), for staff."""
    _require_aware(start, end)
    recurring = _recurring_occurrences(_rules_between(start, end), start, end, include_cancelled=True)
    one_offs = [
        _one_off_occurrence(window, tuple(window.organizations.all()))
        for window in OneOffWindow.objects.filter(starts_at__lt=end, ends_at__gt=start).prefetch_related(
            "organizations"
        )
    ]
    return sorted([*recurring, *one_offs], key=lambda occurrence: (occurrence.starts_at, occurrence.key))


def occurrence_conflicts(
    *,
    starts_at: datetime,
    ends_at: datetime,
    region: str,
    organizations: Iterable[Organization] = (),
    exclude_one_off: OneOffWindow | None = None,
    exclude_rule: RecurringWindow | None = None,
) -> list[Occurrence]:
    """Windows of the same scope overlapping `[starts_at, ends_at)`: the region's windows for a region window, the
    one-off windows naming any of the same organizations for an organization window. Cancelled ones do not count."""
    _require_aware(starts_at, ends_at)
    one_offs = OneOffWindow.objects.filter(cancelled_at__isnull=True, starts_at__lt=ends_at, ends_at__gt=starts_at)
    if exclude_one_off is not None and exclude_one_off.pk is not None:
        one_offs = one_offs.exclude(pk=exclude_one_off.pk)
    if region:
        rules = _rules_between(starts_at, ends_at).filter(region=region)
        if exclude_rule is not None and exclude_rule.pk is not None:
            rules = rules.exclude(pk=exclude_rule.pk)
        conflicts = _recurring_occurrences(rules, starts_at, ends_at, include_cancelled=False)
        conflicts += [_one_off_occurrence(window, ()) for window in one_offs.filter(region=region)]
    else:
        named = {organization.pk for organization in organizations}
        clashing = one_offs.filter(organizations__in=named).distinct().prefetch_related("organizations")
        # Each clash names only the organizations the two windows share.
        conflicts = [
            _one_off_occurrence(window, tuple(org for org in window.organizations.all() if org.pk in named))
            for window in clashing
        ]
    return sorted(conflicts, key=lambda occurrence: occurrence.starts_at)


def occurrence_get(*, key: str) -> Occurrence:
    """The occurrence named by `Occurrence.key` (cancelled or not); raises LookupError when there is none."""
    window_part, _, stamp = key.partition("_")
    try:
        window_id = UUID(window_part)
        starts_at = datetime.strptime(stamp, "%Y%m%dT%H%M%S%z") if stamp else None
    except ValueError:
        raise LookupError(key) from None
    if starts_at is None:
        one_off = OneOffWindow.objects.prefetch_related("organizations").filter(public_id=window_id).first()
        if one_off is None:
            raise LookupError(key)
        return _one_off_occurrence(one_off, tuple(one_off.organizations.all()))
    rule = RecurringWindow.objects.filter(public_id=window_id).first()
    matches = (
        []
        if rule is None
        else _recurring_occurrences([rule], starts_at, starts_at + ONE_MICROSECOND, include_cancelled=True)
    )
    found = [occurrence for occurrence in matches if occurrence.starts_at == starts_at]
    if not found:
        raise LookupError(key)
    return found[0]


def _notices_affecting(organization: Organization, notices: QuerySet[Notice]) -> list[Notice]:
    # Regions are a short JSON list (portable; SQLite has no JSON containment lookup), so that half is checked here.
    named = Notice.organizations.through.objects.filter(notice=OuterRef("pk"), organization=organization)
    return [
        notice
        for notice in notices.annotate(names_organization=Exists(named))
        if notice.names_organization or organization.region in notice.regions
    ]


def notice_list_for(*, organization: Organization, now: datetime) -> list[Notice]:
    """Published notices concerning the organization whose window has not ended yet, earliest window first."""
    notices = Notice.objects.filter(status=Notice.Status.PUBLISHED, ends_at__gt=now).select_related(
        "recurring_window", "one_off_window"
    )
    return _notices_affecting(organization, notices)


def notice_get_for(*, organization: Organization, public_id: UUID) -> Notice:
    """A published notice concerning the organization; Notice.DoesNotExist for any other, as for a missing one."""
    notices = Notice.objects.filter(status=Notice.Status.PUBLISHED, public_id=public_id)
    found = _notices_affecting(organization, notices)
    if not found:
        raise Notice.DoesNotExist
    return found[0]


def notice_banner_list(*, organization: Organization, user: User, at: datetime) -> list[Notice]:
    """What the banner shows the user for the organization at `at`: notices inside their lead time, not dismissed
    (a notice updated after it was dismissed shows again)."""
    dismissed = NoticeDismissal.objects.filter(
        notice=OuterRef("pk"), user=user, update_count__gte=OuterRef("update_count")
    )
    notices = Notice.objects.filter(status=Notice.Status.PUBLISHED, ends_at__gt=at).exclude(Exists(dismissed))
    return [notice for notice in _notices_affecting(organization, notices) if notice.announce_at <= at]


def notice_list_between(*, start: datetime, end: datetime) -> QuerySet[Notice]:
    """Every notice, draft or published, whose window overlaps `[start, end)`: the staff calendar."""
    return (
        Notice.objects.filter(starts_at__lt=end, ends_at__gt=start)
        .select_related("recurring_window", "one_off_window")
        .prefetch_related("organizations")
    )


def notice_list(*, upcoming_after: datetime | None = None) -> QuerySet[Notice]:
    notices = (
        Notice.objects.select_related("recurring_window", "one_off_window")
        .prefetch_related("organizations")
        .order_by("starts_at", "pk")
    )
    return notices if upcoming_after is None else notices.filter(ends_at__gt=upcoming_after)


def notice_get(*, public_id: UUID) -> Notice:
    return Notice.objects.select_related("recurring_window", "one_off_window").get(public_id=public_id)


def calendar_feed_get(*, organization: Organization) -> CalendarFeed | None:
    return CalendarFeed.objects.for_organization(organization).first()


def calendar_feed_by_token(*, token: str) -> CalendarFeed:
    """The feed a secret URL names (the token is the only credential a calendar app sends); DoesNotExist otherwise."""
    return CalendarFeed.objects.select_related("organization").get(token=token)


def region_organization_counts() -> dict[str, int]:
    counts = dict.fromkeys(Region.values, 0)
    for row in Organization.objects.values("region").annotate(count=Count("pk")).order_by():
        counts[row["region"]] = row["count"]
    return counts
