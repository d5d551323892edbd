"""What an SLA report holds, as plain values: the selectors compute them, pages, charts, JSON and CSV show them."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from reports.periods import ReportPeriod
from sla.explain import PAUSE_REASONS, duration
from sla.models import ClockKind
from tenancy.models import Organization
from tickets.models import Priority, TicketType

AIM_SECONDS = 30 * 60  # the SLA aims to resolve most issues within the first-response timeframe
BINS_PER_TARGET = 5  # distribution bins are fifths of each clock's own target
OVERFLOW_BIN = 2 * BINS_PER_TARGET  # the last bin holds everything at twice the target or later


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class Tally:
    """Decided clocks: met, breached, and how many of the breaches WALT excluded (with a reason)."""

    met: int = 0
    breached: int = 0
    excluded: int = 0

    @property
    def decided(self) -> int:
        return self.met + self.breached

    @property
    def share_met(self) -> float | None:
        """As measured: every breach counts."""
        return share(self.met, self.decided)

    @property
    def share_met_after_exclusions(self) -> float | None:
        """Excluded breaches leave the count altogether: they are neither met nor breached."""
        return share(self.met, self.decided - self.excluded)


@dataclass(frozen=True)
class ClockFigures(Tally):
    kind: str = ClockKind.FIRST_RESPONSE
    clocks: int = 0
    open: int = 0
    reopened: int = 0
    stopped: int = 0
    median_seconds: float | None = None
    p95_seconds: float | None = None
    breaches_by_priority: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return ClockKind(self.kind).label


@dataclass(frozen=True)
class Aim:
    """The SLA's aim, reported and never enforced: resolution clocks stopped within 30 minutes on the clock."""

    resolved: int
    within: int
    target_seconds: int = AIM_SECONDS

    @property
    def share(self) -> float | None:
        return share(self.within, self.resolved)


@dataclass(frozen=True)
class PauseFigures:
    clock: str
    reason: str
    pauses: int
    seconds: float

    @property
    def reason_label(self) -> str:
        return PAUSE_REASONS.get(self.reason, self.reason or "unknown")

    @property
    def clock_label(self) -> str:
        return ClockKind(self.clock).label

    @property
    def duration(self) -> str:
        return duration(self.seconds)


@dataclass(frozen=True)
class PolicySpan:
    """A contract and SLA policy version that applied to tickets of the period.

    `in_force_from`/`in_force_to` are within the period; they are None for a version that was not in force during
    the period but that some of its tickets run under (re-baselined, or an alert received before the contract).
    """

    package: str
    contract_from: datetime
    contract_to: datetime | None
    version: int
    reason: str
    policy: dict[str, Any]
    tickets: int
    in_force_from: datetime | None
    in_force_to: datetime | None


@dataclass(frozen=True)
class MonthCompliance:
    month: date
    first_response: Tally
    resolution: Tally

    @property
    def key(self) -> str:
        return f"{self.month:%Y-%m}"

    def of(self, kind: str) -> Tally:
        return self.first_response if kind == ClockKind.FIRST_RESPONSE else self.resolution


@dataclass(frozen=True)
class DistributionBin:
    """Stopped clocks whose time on the clock was between `low` and `high` times their own target."""

    low: float
    high: float | None
    count: int


@dataclass(frozen=True)
class Distribution:
    kind: str
    bins: list[DistributionBin]
    targets_seconds: list[int]

    @property
    def single_target(self) -> int | None:
        return self.targets_seconds[0] if len(self.targets_seconds) == 1 else None


@dataclass(frozen=True)
class SlaReport:
    organization: Organization
    period: ReportPeriod
    generated_at: datetime
    received: dict[tuple[str, str], int]
    clocks: dict[str, ClockFigures]
    aim: Aim
    pauses: list[PauseFigures]
    policies: list[PolicySpan]
    history: list[MonthCompliance]
    distributions: dict[str, Distribution]

    @property
    def received_total(self) -> int:
        return sum(self.received.values())

    @property
    def received_by_priority(self) -> dict[str, int]:
        return {
            priority: sum(n for (p, _), n in self.received.items() if p == priority) for priority in Priority.values
        }

    @property
    def received_by_type(self) -> dict[str, int]:
        return {kind: sum(n for (_, t), n in self.received.items() if t == kind) for kind in TicketType.values}

    @property
    def first_response(self) -> ClockFigures:
        return self.clocks[ClockKind.FIRST_RESPONSE]

    @property
    def resolution(self) -> ClockFigures:
        return self.clocks[ClockKind.RESOLUTION]

    @property
    def breaches_by_priority(self) -> dict[str, dict[str, int]]:
        return {kind: self.clocks[kind].breaches_by_priority for kind in ClockKind.values}


@dataclass(frozen=True)
class OverviewRow:
    """One organization's month in the staff overview."""

    organization: Organization
    first_response: Tally
    resolution: Tally

    @property
    def overall(self) -> Tally:
        return Tally(
            met=self.first_response.met + self.resolution.met,
            breached=self.first_response.breached + self.resolution.breached,
            excluded=self.first_response.excluded + self.resolution.excluded,
        )
