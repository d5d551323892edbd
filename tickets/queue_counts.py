"""The queue at a glance: how much open work there is, how much of it is at risk, and today's compliance.

Counting reads every open ticket (100,000 at scale), which costs far more than a page of rows, and every engineer's
page and live refresh shows the same figures. So they are computed at most once per COUNTS_FRESH_SECONDS for
everyone, and off the request path: a request that finds them older than that still shows them and asks a worker to
count again (`tickets.refresh_queue_counts`). Only when there are none, or none younger than COUNTS_STALE_SECONDS (no
worker has counted for a minute), does a request count them itself.
"""

from dataclasses import dataclass
from datetime import datetime, tzinfo

from django.core.cache import cache
from django.db.models import Count, F, Func, IntegerField, Max, Q, Subquery
from django.db.models.functions import Coalesce
from kombu.exceptions import OperationalError

from core.tasks import PUBLISH_ONCE
from tickets.models import OPEN_STATUSES, Priority, Ticket
from tickets.queue import BREACHED, MET, at_risk_filter, breached_filter
from tickets.tasks import refresh_queue_counts

COUNTS_FRESH_SECONDS = 5
COUNTS_STALE_SECONDS = 60


@dataclass(frozen=True)
class QueueCounts:
    total: int
    by_priority: dict[str, int]
    at_risk: int
    breached: int
    unassigned: int
    first_response_met: int
    first_response_breached: int
    resolution_met: int
    resolution_breached: int

    @property
    def first_response_stopped(self) -> int:
        return self.first_response_met + self.first_response_breached

    @property
    def resolution_stopped(self) -> int:
        return self.resolution_met + self.resolution_breached

    @property
    def first_response_compliance(self) -> float | None:
        return self.first_response_met / self.first_response_stopped if self.first_response_stopped else None

    @property
    def resolution_compliance(self) -> float | None:
        return self.resolution_met / self.resolution_stopped if self.resolution_stopped else None


def queue_day_start(*, now: datetime, zone: tzinfo) -> datetime:
    """Midnight of today in the viewer's timezone: where "today's compliance" starts."""
    return now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)


def queue_counts_recent(*, now: datetime, day_start: datetime) -> QueueCounts:
    """`queue_counts` as last computed for everyone, at most COUNTS_STALE_SECONDS old (see the module's docstring)."""
    stored: tuple[float, QueueCounts] | None = cache.get(_key(day_start))
    if stored is not None:
        counted_at, counts = stored
        age = now.timestamp() - counted_at
        if age < COUNTS_FRESH_SECONDS or (age < COUNTS_STALE_SECONDS and _refresh_asked(day_start)):
            return counts
    return queue_counts_store(now=now, day_start=day_start)


def queue_counts_store(*, now: datetime, day_start: datetime) -> QueueCounts:
    """Count now and keep the figures for everyone whose day starts at `day_start`."""
    counts = queue_counts(now=now, day_start=day_start)
    cache.set(_key(day_start), (now.timestamp(), counts), timeout=COUNTS_STALE_SECONDS)
    return counts


def queue_counts(*, now: datetime, day_start: datetime) -> QueueCounts:
    """The whole queue at a glance, and today's compliance: of the clocks stopped since `day_start` (a first response
    given, a ticket resolved), the share that met their deadline. One query."""
    figures = Ticket.objects.filter(status__in=OPEN_STATUSES).aggregate(
        total=Count("pk"),
        at_risk=Count("pk", filter=at_risk_filter(now)),
        breached=Count("pk", filter=breached_filter(now)),
        unassigned=Count("pk", filter=Q(assignee__isnull=True)),
        first_response_met=_stopped_today("first_responded_at", "first_response", MET, day_start),
        first_response_breached=_stopped_today("first_responded_at", "first_response", BREACHED, day_start),
        resolution_met=_stopped_today("resolved_at", "resolution", MET, day_start),
        resolution_breached=_stopped_today("resolved_at", "resolution", BREACHED, day_start),
        **{priority: Count("pk", filter=Q(priority=priority)) for priority in Priority.values},
    )
    return QueueCounts(by_priority={priority: figures.pop(priority) for priority in Priority.values}, **figures)


def _key(day_start: datetime) -> str:
    return f"queue:counts:{day_start.isoformat()}"


def _refresh_asked(day_start: datetime) -> bool:
    """Whether a worker has been asked to count again: by this call, or by another one less than
    COUNTS_FRESH_SECONDS ago. False when the broker cannot take the task, so the caller counts itself."""
    if not cache.add(f"{_key(day_start)}:refreshing", True, timeout=COUNTS_FRESH_SECONDS):
        return True
    try:
        # Published once: while the broker is down the request counts itself at once instead of waiting for it.
        refresh_queue_counts.apply_async(
            (day_start.isoformat(),), retry_policy=PUBLISH_ONCE, expires=COUNTS_FRESH_SECONDS
        )
    except OperationalError:
        cache.delete(f"{_key(day_start)}:refreshing")
        return False
    return True


def _stopped_today(moment: str, clock: str, state: str, day_start: datetime) -> Coalesce:
    """How many `clock`s stopped in `state` since `day_start`, as a value inside the open-work aggregate.

    Those tickets are mostly closed, so they are counted by their own small index in an uncorrelated subquery, which
    keeps the counts one statement and lets the open work be read from the queue's covering index alone. MAX() makes
    the subquery an aggregate; COALESCE answers when there is no open work at all (an aggregate of no rows is NULL).
    """
    count = Subquery(
        Ticket.objects.filter(**{f"{moment}__gte": day_start, f"sla_{clock}_state": state})
        .order_by()
        .values(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
    )
    return Coalesce(Max(count), count)
