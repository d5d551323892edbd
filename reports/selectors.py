"""Reads for the SLA reports. Every figure is computed by the database from the SLA clocks, their events and their
breach records; a report costs the same few queries however many tickets it covers.

Which clocks a period holds: those that *started* in it. A ticket's first-response clock and first resolution clock
start when it is received; a reopened ticket's next resolution clock (its next epoch) starts when it is reopened.
"""

from dataclasses import dataclass
from datetime import date, datetime
from functools import reduce
from operator import or_
from typing import Any
from uuid import UUID

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, Floor, Greatest, Least

from reports.figures import (
    AIM_SECONDS,
    BINS_PER_TARGET,
    OVERFLOW_BIN,
    Aim,
    ClockFigures,
    Distribution,
    DistributionBin,
    MonthCompliance,
    OverviewRow,
    PauseFigures,
    PolicySpan,
    SlaReport,
    Tally,
)
from reports.models import BreachExclusion, BreachExclusionChange
from reports.periods import ReportPeriod, add_months, midnight, zone_of
from reports.sql import PercentileCont, SecondsBetween, report_queries
from sla.models import Clock, ClockEvent, ClockKind, ClockState, PolicyVersion, Record
from sla.policy import effective_policy
from sla.selectors import policy_version_list
from tenancy.models import Contract, Organization
from tenancy.selectors import contract_history
from tickets.models import Priority, Ticket

MET, BREACHED = ClockState.MET, ClockState.BREACHED
UNDECIDED = (ClockState.RUNNING, ClockState.PAUSED)
# A correlated EXISTS, asked only of breached clocks: a join would match every clock against the exclusions.
EXCLUDED = Q(state=BREACHED) & Exists(BreachExclusion.objects.filter(clock=OuterRef("pk"), excluded=True))
BEFORE_HISTORY = -1
PAUSE_ENDS = (ClockEvent.Kind.RESUMED, ClockEvent.Kind.MET, ClockEvent.Kind.STOPPED)


def clocks_started(*, organization: Organization, starts_at: datetime, ends_at: datetime) -> QuerySet[Clock]:
    return Clock.objects.for_organization(organization).filter(started_at__gte=starts_at, started_at__lt=ends_at)


def time_on_clock() -> Any:
    """Seconds from a stopped clock's start to its stop, less the time it spent paused.

    `paused_seconds` sums the pauses that ended in a resume; a clock stopped while paused (resolved while waiting on
    the customer) still has `paused_at`, and that last pause ran until the stop.
    """
    last_pause = Case(
        When(paused_at__isnull=False, then=SecondsBetween("paused_at", "stopped_at")),
        default=Value(0.0),
        output_field=FloatField(),
    )
    return SecondsBetween("started_at", "stopped_at") - F("paused_seconds") - last_pause


def _tallies(prefix: str = "") -> dict[str, Any]:
    """Met, breached and excluded counts per clock kind, as aggregates named `<prefix><kind>_<count>`."""
    aggregates: dict[str, Any] = {}
    for kind in ClockKind.values:
        of_kind = Q(kind=kind)
        aggregates[f"{prefix}{kind}_met"] = Count("pk", filter=of_kind & Q(state=MET))
        aggregates[f"{prefix}{kind}_breached"] = Count("pk", filter=of_kind & Q(state=BREACHED))
        aggregates[f"{prefix}{kind}_excluded"] = Count("pk", filter=of_kind & EXCLUDED)
    return aggregates


def _tally(row: dict[str, Any], kind: str, prefix: str = "") -> Tally:
    return Tally(
        met=row[f"{prefix}{kind}_met"],
        breached=row[f"{prefix}{kind}_breached"],
        excluded=row[f"{prefix}{kind}_excluded"],
    )


def _milliseconds(seconds: float | None) -> float | None:
    """Interpolating two times can leave floating-point dust; the inputs are exact to the millisecond."""
    return None if seconds is None else round(seconds, 3)


@dataclass(frozen=True)
class _Group:
    """Clocks that share everything the report counts them by."""

    month: int  # index of the month the clock started in, in the period's history months (or BEFORE_HISTORY)
    in_period: bool
    kind: str
    state: str
    reopened: bool
    excluded: bool
    priority: str
    contract_id: int
    policy_version: int
    target_seconds: int
    bin: int | None  # the distribution's bin; None for a clock of another period, or not stopped
    clocks: int


def _groups(*, organization: Organization, period: ReportPeriod) -> list[_Group]:
    """The clocks of the period and of the twelve months of history, counted in one pass by everything the report
    counts: month, state, exclusion, reopening, priority, policy version and time taken (the distribution's bin)."""
    zone = period.zone
    months = period.history_months()
    history_starts_at = midnight(months[0], zone)
    month_ends = [midnight(add_months(month, 1), zone) for month in months]
    in_period = Q(started_at__gte=period.starts_at, started_at__lt=period.ends_at)
    # Month boundaries in the organization's timezone, compared as instants: cheaper than converting every clock's
    # start to local time, and the same on both databases. A long period may begin before its history: month -1.
    month = Case(
        When(started_at__lt=history_starts_at, then=BEFORE_HISTORY),
        *(When(started_at__lt=end, then=index) for index, end in enumerate(month_ends)),
        output_field=IntegerField(),
    )
    # Multiplied before dividing, so a time exactly on a bin's edge falls in the later bin on either database.
    fifth = Floor(F("on_clock") * BINS_PER_TARGET / F("target_seconds"))
    rows = (
        # The period ends in the last month of its history, and may begin before the first.
        clocks_started(
            organization=organization, starts_at=min(period.starts_at, history_starts_at), ends_at=month_ends[-1]
        )
        .filter(ticket__organization=organization)  # lets the planner read only this tenant's tickets
        .annotate(
            month=month,
            in_period=ExpressionWrapper(in_period, output_field=BooleanField()),
            reopened=ExpressionWrapper(Q(epoch__gt=0), output_field=BooleanField()),
            excluded=ExpressionWrapper(EXCLUDED, output_field=BooleanField()),
            on_clock=time_on_clock(),
            bin=Case(
                When(in_period & Q(stopped_at__isnull=False), then=Least(Greatest(fifth, 0.0), float(OVERFLOW_BIN))),
                output_field=FloatField(),
            ),
        )
        .values_list(
            "month",
            "in_period",
            "kind",
            "state",
            "reopened",
            "excluded",
            "ticket__priority",
            "contract_id",
            "policy_version",
            "target_seconds",
            "bin",
        )
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [
        _Group(
            month_index,
            bool(within),
            kind,
            state,
            bool(reopened),
            bool(excluded),
            priority,
            contract,
            version,
            target,
            None if bin_ is None else int(bin_),
            n,
        )
        for month_index, within, kind, state, reopened, excluded, priority, contract, version, target, bin_, n in rows
    ]


def _times(clocks: QuerySet[Clock]) -> dict[str, Any]:
    """Per clock kind: how many stopped, the median and 95th percentile of their time on the clock; and how many
    resolutions met the aim. One row: filtered aggregates need no sort by kind before the percentiles' own."""
    aggregates: dict[str, Any] = {}
    for kind in ClockKind.values:
        stopped = Q(kind=kind, stopped_at__isnull=False)
        aggregates |= {
            f"{kind}_stopped": Count("pk", filter=stopped),
            f"{kind}_median": PercentileCont("on_clock", 0.5, filter=stopped),
            f"{kind}_p95": PercentileCont("on_clock", 0.95, filter=stopped),
        }
    aggregates["within_aim"] = Count(
        "pk", filter=Q(kind=ClockKind.RESOLUTION, stopped_at__isnull=False, on_clock__lte=AIM_SECONDS)
    )
    return clocks.annotate(on_clock=time_on_clock()).aggregate(**aggregates)


def _clock_figures(groups: list[_Group], times: dict[str, Any]) -> dict[str, ClockFigures]:
    def count(kind: str, test: Any = None) -> int:
        return sum(g.clocks for g in groups if g.in_period and g.kind == kind and (test is None or test(g)))

    return {
        kind: ClockFigures(
            kind=kind,
            met=count(kind, lambda g: g.state == MET),
            breached=count(kind, lambda g: g.state == BREACHED),
            excluded=count(kind, lambda g: g.state == BREACHED and g.excluded),
            clocks=count(kind),
            open=count(kind, lambda g: g.state in UNDECIDED),
            reopened=count(kind, lambda g: g.reopened),
            stopped=times[f"{kind}_stopped"],
            median_seconds=_milliseconds(times[f"{kind}_median"]),
            p95_seconds=_milliseconds(times[f"{kind}_p95"]),
            breaches_by_priority={
                priority: count(kind, lambda g, p=priority: g.state == BREACHED and g.priority == p)
                for priority in Priority.values
            },
        )
        for kind in ClockKind.values
    }


def _received(*, organization: Organization, period: ReportPeriod) -> dict[tuple[str, str], int]:
    rows = (
        Ticket.objects.for_organization(organization)
        .filter(received_at__gte=period.starts_at, received_at__lt=period.ends_at)
        .values_list("priority", "type")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {(priority, ticket_type): n for priority, ticket_type, n in rows}


def _pauses(*, organization: Organization, period: ReportPeriod, now: datetime) -> list[PauseFigures]:
    """Time paused, by clock and reason. A pause runs from its event to the clock's next resume or stop, or until now
    when the clock is still paused; it keeps the reason it began with."""
    pause_end = (
        ClockEvent.objects.filter(clock=OuterRef("clock"), kind__in=PAUSE_ENDS)
        .filter(Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), pk__gt=OuterRef("pk")))
        .order_by("at", "pk")
        .values("at")[:1]
    )
    rows = (
        ClockEvent.objects.for_organization(organization)
        .filter(
            kind=ClockEvent.Kind.PAUSED,
            clock__started_at__gte=period.starts_at,
            clock__started_at__lt=period.ends_at,
        )
        .annotate(ended_at=Coalesce(Subquery(pause_end), Value(now, output_field=DateTimeField())))
        .values_list("clock__kind", KT("detail__reason"))
        .annotate(pauses=Count("pk"), seconds=Sum(SecondsBetween("at", "ended_at")))
        .order_by("clock__kind", KT("detail__reason"))
    )
    return [
        PauseFigures(clock=kind, reason=reason or "", pauses=pauses, seconds=round(seconds or 0.0, 3))
        for kind, reason, pauses, seconds in rows
    ]


def _policies(*, organization: Organization, period: ReportPeriod, groups: list[_Group]) -> list[PolicySpan]:
    """The contracts and SLA policy versions in force during the period, and how many of its tickets run under each.

    A version is in force for tickets received from its creation until the next version of the same contract (or the
    contract's end); version 0 is the package defaults, in force from the contract's start until its first version.
    """
    tickets: dict[tuple[int, int], int] = {}
    for group in groups:
        if group.in_period and group.kind == ClockKind.FIRST_RESPONSE:  # every ticket has exactly one
            key = (group.contract_id, group.policy_version)
            tickets[key] = tickets.get(key, 0) + group.clocks
    versions = list(policy_version_list(organization=organization))
    contracts = {contract.pk: contract for contract in contract_history(organization=organization)}
    spans: list[PolicySpan] = []
    for contract in sorted(contracts.values(), key=lambda contract: contract.effective_from):
        own = sorted((v for v in versions if v.contract_id == contract.pk), key=lambda v: (v.created_at, v.number))
        starts: list[tuple[datetime, PolicyVersion | None]] = [(contract.effective_from, None)]
        starts += [(max(v.created_at, contract.effective_from), v) for v in own]
        for index, (begins, version) in enumerate(starts):
            ends = starts[index + 1][0] if index + 1 < len(starts) else contract.effective_to
            in_force_from = max(begins, period.starts_at)
            in_force_to = min(ends, period.ends_at) if ends is not None else period.ends_at
            if in_force_from >= in_force_to:
                continue
            number = version.number if version else 0
            spans.append(_span(contract, version, tickets.pop((contract.pk, number), 0), in_force_from, in_force_to))
    by_number = {v.number: v for v in versions}
    for (contract_id, number), count in sorted(tickets.items(), key=lambda item: (item[0][1], item[0][0])):
        spans.append(_span(contracts[contract_id], by_number.get(number), count, None, None))
    return spans


def _span(
    contract: Contract,
    version: PolicyVersion | None,
    tickets: int,
    in_force_from: datetime | None,
    in_force_to: datetime | None,
) -> PolicySpan:
    return PolicySpan(
        package=contract.package,
        contract_from=contract.effective_from,
        contract_to=contract.effective_to,
        version=version.number if version else 0,
        reason=version.reason if version else "The package defaults.",
        policy=effective_policy(package=contract.package, overrides=version.overrides if version else {}),
        tickets=tickets,
        in_force_from=in_force_from,
        in_force_to=in_force_to,
    )


def _history(groups: list[_Group], period: ReportPeriod) -> list[MonthCompliance]:
    """Met, breached and excluded clocks in each of the twelve months up to the period's last, by clock."""

    by_month: dict[tuple[int, str], list[_Group]] = {}
    for group in groups:
        by_month.setdefault((group.month, group.kind), []).append(group)

    def tally(index: int, kind: str) -> Tally:
        of_month = by_month.get((index, kind), [])
        return Tally(
            met=sum(g.clocks for g in of_month if g.state == MET),
            breached=sum(g.clocks for g in of_month if g.state == BREACHED),
            excluded=sum(g.clocks for g in of_month if g.state == BREACHED and g.excluded),
        )

    return [
        MonthCompliance(
            month=month,
            first_response=tally(index, ClockKind.FIRST_RESPONSE),
            resolution=tally(index, ClockKind.RESOLUTION),
        )
        for index, month in enumerate(period.history_months())
    ]


def _distributions(groups: list[_Group]) -> dict[str, Distribution]:
    """How long the period's stopped clocks took, in fifths of their own target, the last bin holding twice the
    target or more."""
    counts: dict[tuple[str, int], int] = {}
    targets: dict[str, set[int]] = {kind: set() for kind in ClockKind.values}
    for group in groups:
        if group.bin is not None:
            counts[group.kind, group.bin] = counts.get((group.kind, group.bin), 0) + group.clocks
            targets[group.kind].add(group.target_seconds)
    return {
        kind: Distribution(
            kind=kind,
            bins=[
                DistributionBin(
                    low=index / BINS_PER_TARGET,
                    high=(index + 1) / BINS_PER_TARGET if index < OVERFLOW_BIN else None,
                    count=counts.get((kind, index), 0),
                )
                for index in range(OVERFLOW_BIN + 1)
            ],
            targets_seconds=sorted(targets[kind]),
        )
        for kind in ClockKind.values
    }


def sla_report_get(*, organization: Organization, period: ReportPeriod, now: datetime) -> SlaReport:
    """The organization's SLA report for the period, in the same few queries whatever its size."""
    with report_queries():
        groups = _groups(organization=organization, period=period)
        times = _times(clocks_started(organization=organization, starts_at=period.starts_at, ends_at=period.ends_at))
        received = _received(organization=organization, period=period)
        pauses = _pauses(organization=organization, period=period, now=now)
        policies = _policies(organization=organization, period=period, groups=groups)
    return SlaReport(
        organization=organization,
        period=period,
        generated_at=now,
        received=received,
        clocks=_clock_figures(groups, times),
        aim=Aim(resolved=times[f"{ClockKind.RESOLUTION}_stopped"], within=times["within_aim"]),
        pauses=pauses,
        policies=policies,
        history=_history(groups, period),
        distributions=_distributions(groups),
    )


def breach_list(*, organization: Organization, period: ReportPeriod) -> QuerySet[Record]:
    """The breaches of the period's clocks, by deadline, with their ticket, clock and exclusion."""
    return (
        Record.objects.for_organization(organization)
        .filter(
            kind=Record.Kind.BREACH,
            clock__started_at__gte=period.starts_at,
            clock__started_at__lt=period.ends_at,
        )
        .select_related("ticket", "clock", "clock__breach_exclusion", "clock__breach_exclusion__decided_by")
        .defer("ticket__description", "clock__policy")
        .order_by("due_at", "pk")
    )


def breach_get(*, organization: Organization, ticket_id: UUID, clock_kind: str, epoch: int) -> Record:
    """A breach named by its ticket, clock and epoch; Record.DoesNotExist for anything else, a foreign one included."""
    return (
        Record.objects.for_organization(organization)
        .select_related("ticket", "clock", "clock__breach_exclusion", "clock__breach_exclusion__decided_by")
        .get(kind=Record.Kind.BREACH, ticket__public_id=ticket_id, clock_kind=clock_kind, epoch=epoch)
    )


def breach_exclusion_change_list(*, organization: Organization, record: Record) -> QuerySet[BreachExclusionChange]:
    return (
        BreachExclusionChange.objects.for_organization(organization)
        .filter(exclusion__record=record)
        .select_related("changed_by")
        .order_by("changed_at", "pk")
    )


def compliance_overview_list(*, organizations: QuerySet[Organization], month: date) -> list[OverviewRow]:
    """Every organization's month, worst compliance first (met share of all decided clocks, as measured); each
    organization's month runs in its own timezone. Organizations with nothing decided come last, by name."""
    listed = list(organizations)
    next_month = add_months(month, 1)
    window = reduce(
        or_,
        (
            Q(
                organization__timezone=name,
                started_at__gte=midnight(month, zone_of(name)),
                started_at__lt=midnight(next_month, zone_of(name)),
            )
            for name in {organization.timezone for organization in listed}
        ),
        Q(pk__in=[]),
    )
    rows = {
        row["organization_id"]: row
        # Naming the organizations lets the (organization, started_at) index read each one's month as one range.
        for row in Clock.objects.filter(window, organization__in=[o.pk for o in listed])
        .values("organization_id")
        .annotate(**_tallies())
        .order_by()
    }
    overview = [
        OverviewRow(
            organization=organization,
            first_response=_tally(row, ClockKind.FIRST_RESPONSE) if row else Tally(),
            resolution=_tally(row, ClockKind.RESOLUTION) if row else Tally(),
        )
        for organization in listed
        for row in [rows.get(organization.pk)]
    ]

    def rank(row: OverviewRow) -> tuple[bool, float, int, str]:
        overall = row.overall
        return (overall.share_met is None, overall.share_met or 0.0, -overall.breached, row.organization.name)

    return sorted(overview, key=rank)
