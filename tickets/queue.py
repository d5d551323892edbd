"""The engineers' queue: open work of every organization, in the SLA's order, and what keeps the page live.

Reads only. SLA state comes from the summary `sla` writes onto each ticket row (`sla_*` columns), so the queue sorts
and filters one indexed table and `tickets` never imports `sla`. A running clock is shown as "warning" in the last
quarter of its window (from `received_at` to its deadline), which is where the default 75 % warning threshold lies.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db import connection, models
from django.db.models import (
    DateTimeField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)

from tenancy.models import Organization, User
from tenancy.selectors import organization_list_with_package, package_in_force
from tickets.models import OPEN_STATUSES, SLA_WARNING_PART, Source, Ticket

# Tickets written this close to the newest write count in the change marker, so a transaction that commits after a
# later one (its `updated_at` is older than the newest) still changes the marker.
CHANGE_WINDOW = timedelta(seconds=30)
CHANGE_WINDOW_ROWS = 10_000
RUNNING, PAUSED, MET, BREACHED = "running", "paused", "met", "breached"
COUNT_CAP = 1000  # a queue's rows are counted up to here
CLOCKS = ("first_response", "resolution")


class Sort(models.TextChoices):
    PRIORITY = "priority", "Priority, then time received"
    DUE = "due", "Time to breach"
    UPDATED = "updated", "Last activity"


class View(models.TextChoices):
    ALL = "all", "All open work"
    AT_RISK = "at_risk", "At risk (warned or breached)"
    BREACHED = "breached", "Breached"


class AssigneeFilter(models.TextChoices):
    ANYONE = "anyone", "Anyone"
    ME = "me", "Me"
    UNASSIGNED = "unassigned", "Unassigned"


class SourceFilter(models.TextChoices):
    PORTAL = "portal", "Portal or API"
    MONITORING = "monitoring", "Monitoring"


ORDER_LABELS = {
    Sort.PRIORITY: "Priority (P1 first), then time received (oldest first): the SLA's order",
    Sort.DUE: "Time to breach: the soonest running deadline first (you picked this order)",
    Sort.UPDATED: "Last activity, newest first (you picked this order)",
    "risk": "Soonest deadline first, overdue first (the at-risk view's order)",
}


@dataclass(frozen=True)
class QueueFilters:
    """What the engineer asked for; field names are the URL's parameters. `sort` empty: the view's own order."""

    organization: Organization | None = None
    package: str = ""
    region: str = ""
    priority: str = ""
    type: str = ""
    status: str = ""
    assignee: str = AssigneeFilter.ANYONE
    source: str = ""
    view: str = View.ALL
    sort: str = ""

    @property
    def order(self) -> str:
        if self.sort:
            return self.sort
        return "risk" if self.view == View.AT_RISK else Sort.PRIORITY

    @property
    def order_label(self) -> str:
        return ORDER_LABELS[self.order]

    @property
    def narrowed(self) -> bool:
        return self != QueueFilters(sort=self.sort)


def breached_filter(now: datetime) -> Q:
    """A deadline still to be met has passed (the summary writer derives `sla_risk_due_at`)."""
    return Q(sla_risk_due_at__lte=now)


def at_risk_filter(now: datetime) -> Q:
    """Warned or breached: a clock still to be met is in the last quarter of its window, or past it."""
    return Q(sla_at_risk_from__lte=now)


def _ordered(tickets: QuerySet[Ticket], order: str) -> QuerySet[Ticket]:
    sla_order = ("priority", "received_at", "pk")
    if order == Sort.DUE:
        return tickets.order_by(F("sla_next_due_at").asc(nulls_last=True), *sla_order)
    if order == Sort.UPDATED:
        return tickets.order_by("-last_activity_at", *sla_order)
    if order == "risk":
        return tickets.order_by(F("sla_risk_due_at").asc(nulls_last=True), *sla_order)
    return tickets.order_by(*sla_order)


def _by_organization(
    tickets: QuerySet[Ticket], filters: QueueFilters, *, user: User, now: datetime
) -> QuerySet[Ticket]:
    if filters.organization is not None:
        # One organization's open work is small: its index narrows it, and the rest filters it.
        tickets = tickets.filter(organization=filters.organization)
        if filters.package:
            tickets = tickets.filter(Q(package=filters.package))
        return tickets.filter(organization__region=filters.region) if filters.region else tickets
    if filters.package or filters.region:
        # Resolved to the organizations' ids first (one small query): the database can then estimate the share
        # of the queue they hold and walk the queue's own index, instead of visiting organization after organization.
        organizations = organization_list_with_package(user=user, at=now)
        if filters.package:
            organizations = organizations.filter(Q(package=filters.package))
        if filters.region:
            organizations = organizations.filter(region=filters.region)
        return tickets.filter(organization_id__in=list(organizations.values_list("pk", flat=True)))
    return tickets


def _by_ticket(tickets: QuerySet[Ticket], filters: QueueFilters, *, user: User) -> QuerySet[Ticket]:
    for name in ("priority", "type", "status"):
        if value := getattr(filters, name):
            tickets = tickets.filter(**{name: value})
    if filters.assignee == AssigneeFilter.ME:
        tickets = tickets.filter(assignee=user)
    elif filters.assignee == AssigneeFilter.UNASSIGNED:
        tickets = tickets.filter(assignee__isnull=True)
    if filters.source == SourceFilter.PORTAL:
        tickets = tickets.filter(source__in=[Source.PORTAL, Source.API])
    elif filters.source == SourceFilter.MONITORING:
        tickets = tickets.filter(source=Source.MONITORING)
    return tickets


def queue_list(*, user: User, filters: QueueFilters, now: datetime) -> QuerySet[Ticket]:
    """Open work across every organization (the caller is staff), each row with its organization, assignee and
    `package` (the package in force now) in one query."""
    if not user.is_walt_staff:
        return Ticket.objects.none()  # the queue spans tenants: fail closed for anyone else
    tickets: QuerySet[Ticket] = (
        Ticket.objects.filter(status__in=OPEN_STATUSES)
        .select_related("organization", "assignee")
        .annotate(package=package_in_force(organization=OuterRef("organization_id"), at=now))
    )
    tickets = _by_ticket(_by_organization(tickets, filters, user=user, now=now), filters, user=user)
    if filters.view == View.AT_RISK:
        tickets = tickets.filter(at_risk_filter(now))
    elif filters.view == View.BREACHED:
        tickets = tickets.filter(breached_filter(now))
    return _ordered(tickets, filters.order)


class QueuePaginator(Paginator[Ticket]):
    """Counts at most COUNT_CAP rows. An exact count of a large queue reads every open ticket on every request, and
    nobody pages past its thousandth ticket: beyond, the page says "1000+" and the filters narrow it. The counts at a
    glance stay exact."""

    @cached_property
    def count(self) -> int:
        return min(self._counted, COUNT_CAP)

    @cached_property
    def capped(self) -> bool:
        return self._counted > COUNT_CAP

    def __init__(self, object_list: QuerySet[Ticket], per_page: int) -> None:
        super().__init__(object_list, per_page)
        self.tickets = object_list

    def page(self, number: int | str) -> Page[Ticket]:
        """The page in one statement of two steps: its ids first, which the queue's covering index answers without
        reading the table whatever the filters and order, then only those rows (and their package)."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        ids = self.tickets.values("pk")[bottom:top]
        return Page(self.tickets.filter(pk__in=Subquery(ids)), number, self)

    @cached_property
    def _counted(self) -> int:
        # Which rows are counted does not matter, only how many: no order, no columns, so any index may answer.
        return self.tickets.order_by().values("pk")[: COUNT_CAP + 1].count()


def queue_head(*, exclude: Ticket | None = None) -> QuerySet[Ticket]:
    """Take-next's candidates, best first: unassigned open work in the SLA's order. The caller locks and limits."""
    tickets = Ticket.objects.filter(status__in=OPEN_STATUSES, assignee__isnull=True)
    if exclude is not None:
        tickets = tickets.exclude(pk=exclude.pk)
    return tickets.order_by("priority", "received_at", "pk")


def queue_ticket_get(*, user: User, public_id: UUID) -> Ticket:
    """Any organization's ticket, for staff working the queue; raises Ticket.DoesNotExist for anyone else."""
    if not user.is_walt_staff:
        raise Ticket.DoesNotExist
    return Ticket.objects.select_related("organization", "assignee").get(public_id=public_id)


def queue_version() -> str:
    """A marker that changes whenever any ticket is written, for the live refresh to compare.

    Tickets are never deleted and every write (the SLA summary's included) stamps `updated_at`, so the rows written
    in the CHANGE_WINDOW before the newest write tell it: one index range read. The window, not just the newest
    stamp, catches a transaction that commits after a later one, whose stamp is not the newest: it adds a row to the
    window, or moves one of its stamps.
    """
    fingerprint: object
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_WINDOW_FINGERPRINT, [CHANGE_WINDOW.total_seconds(), CHANGE_WINDOW_ROWS])
            fingerprint = cursor.fetchone()
    else:
        newest = Ticket.objects.order_by("-updated_at").values("updated_at")[:1]
        since = ExpressionWrapper(Subquery(newest) - CHANGE_WINDOW, output_field=DateTimeField())
        fingerprint = sorted(Ticket.objects.filter(updated_at__gte=since).values_list("pk", "updated_at"))
    return hashlib.sha256(repr(fingerprint).encode()).hexdigest()[:20]


# The window's size, newest stamp and the sum of its stamps, read from the `updated_at` index alone: thousands of
# writes in the window cost the poll a fraction of a millisecond, not a row each. The LIMIT keeps the planner from
# taking the window for a third of the table (its guess for a bound it cannot see), which it would read in parallel
# workers whose start alone costs ten times the read; beyond CHANGE_WINDOW_ROWS writes, the newest tell the change.
_WINDOW_FINGERPRINT = (
    "SELECT count(*), max(updated_at), sum((extract(epoch FROM updated_at) * 1000000)::bigint) "  # noqa: S608
    f"FROM (SELECT updated_at FROM {Ticket._meta.db_table} "  # (our own table name)
    f"WHERE updated_at >= (SELECT max(updated_at) FROM {Ticket._meta.db_table}) - %s * interval '1 second' "
    "ORDER BY updated_at DESC LIMIT %s) AS recent"
)


@dataclass(frozen=True)
class ClockCell:
    """One SLA clock of a queue row, as the row shows it."""

    kind: str
    label: str
    state: str  # ok, warning, breached, paused, met, late (answered after the deadline), none
    due_at: datetime | None
    warn_at: datetime | None
    remaining_seconds: float | None
    text: str

    @property
    def counts_down(self) -> bool:
        return self.state in {"ok", "warning", "breached"} and self.due_at is not None

    @property
    def flag(self) -> str:
        """Said in words as well as in colour."""
        return CLOCK_FLAGS.get(self.state, "")

    @property
    def due_ms(self) -> int | None:
        return epoch_ms(self.due_at) if self.due_at else None

    @property
    def warn_ms(self) -> int | None:
        return epoch_ms(self.warn_at) if self.warn_at else None


CLOCK_FLAGS = {"warning": "At risk", "breached": "Breached"}


def epoch_ms(moment: datetime) -> int:
    """For the page's script, which counts down from these without parsing dates."""
    return int(moment.timestamp() * 1000)


def duration_text(seconds: float) -> str:
    """'2 d 3 h', '3 h 5 min', '12 min 5 s', '45 s'; static/js/queue.js writes exactly the same."""
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"


def countdown_text(due_at: datetime, now: datetime) -> str:
    left = (due_at - now).total_seconds()
    return f"{duration_text(left)} left" if left > 0 else f"{duration_text(left)} late"


def clock_cell(ticket: Ticket, kind: str, *, now: datetime) -> ClockCell:
    state: str = getattr(ticket, f"sla_{kind}_state")
    due_at: datetime | None = getattr(ticket, f"sla_{kind}_due_at")
    remaining: float | None = getattr(ticket, f"sla_{kind}_remaining_seconds")
    label = "First response" if kind == "first_response" else "Resolution"
    warn_at = due_at - (due_at - ticket.received_at) / SLA_WARNING_PART if due_at else None
    answered = kind == "first_response" and ticket.first_responded_at is not None
    shown, text = "none", "No clock"
    if state == MET or (answered and state != BREACHED):
        shown, text = "met", "Met"
    elif answered:
        shown, text = "late", "Met late"
    elif state == PAUSED:
        shown = "paused"
        text = f"Paused · {duration_text(remaining)} left" if remaining is not None else "Paused"
    elif state in (RUNNING, BREACHED) and due_at is not None:
        assert warn_at is not None
        shown = "breached" if state == BREACHED or due_at <= now else "warning" if warn_at <= now else "ok"
        text = countdown_text(due_at, now)
    return ClockCell(
        kind=kind, label=label, state=shown, due_at=due_at, warn_at=warn_at, remaining_seconds=remaining, text=text
    )


def clock_cells(ticket: Ticket, *, now: datetime) -> list[ClockCell]:
    return [clock_cell(ticket, kind, now=now) for kind in CLOCKS]
