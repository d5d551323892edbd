from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.heartbeat import heartbeat_record
from sla.models import Clock, ClockEvent, ClockState, Record
from sla.notices import notify_records
from sla.services.clocks import SUMMARY_SOURCE_FIELDS, event, settle, summary_of
from tickets.services import ticket_sla_summaries_set

SWEEP_BATCH = 500
SWEEPER_HEARTBEAT = "sla-sweeper"


@dataclass(frozen=True)
class SweepResult:
    warnings: int = 0
    breaches: int = 0


def sla_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> SweepResult:
    """Record every warning and breach that is due, in batches of short transactions, then stamp the heartbeat.

    Safe to run concurrently and repeatedly: each batch locks its clocks (and their tickets) with SKIP LOCKED, so two
    sweepers share the work, and a clock's state changes once. A sweep that was down catches up here.
    """
    now = now or timezone.now()
    warnings = breaches = 0
    while True:
        found, warned, breached = _sweep_batch(now=now, batch=batch)
        warnings, breaches = warnings + warned, breaches + breached
        if found < batch or not (warned or breached):
            break  # done, or what is left is locked by another sweeper or a reply: the next sweep gets it
    heartbeat_record(name=SWEEPER_HEARTBEAT, at=timezone.now())
    return SweepResult(warnings=warnings, breaches=breaches)


def _due_clock_ids(*, now: datetime, batch: int) -> list[int]:
    """Clocks with a due deadline or warning: two range scans, one on each partial index, so an idle sweep reads
    nothing however many clocks are running."""
    running = Clock.objects.filter(state=ClockState.RUNNING)
    breaches = running.filter(due_at__lte=now).order_by("due_at").values_list("pk", flat=True)[:batch]
    warnings = (
        running.filter(warned_at__isnull=True, warn_at__lte=now).order_by("warn_at").values_list("pk", flat=True)
    )[:batch]
    return sorted({*breaches, *warnings})[:batch]


def _sweep_batch(*, now: datetime, batch: int) -> tuple[int, int, int]:
    due = _due_clock_ids(now=now, batch=batch)
    if not due:
        return 0, 0, 0
    return _sweep_locked(due, now=now)


@transaction.atomic
def _sweep_locked(due: list[int], *, now: datetime) -> tuple[int, int, int]:
    # Another sweeper may hold some of these clocks or have recorded them since: skip the first, re-check the rest.
    clocks = list(
        Clock.objects.filter(pk__in=due, state=ClockState.RUNNING)
        .filter(Q(due_at__lte=now) | Q(warned_at__isnull=True, warn_at__lte=now))
        .select_related("ticket", "ticket__organization", "ticket__assignee")
        .defer("policy")  # recording needs the deadlines, not the snapshot they came from
        .select_for_update(skip_locked=True, of=("self", "ticket"))
        .order_by("pk")
    )
    try:
        with transaction.atomic():
            warned, breached = _record_batch(clocks, now=now)
    except IntegrityError:
        # A record already exists for one of these clocks (it should not: the states say otherwise). Fall back to
        # one clock at a time, where the unique constraint quietly absorbs the duplicate instead of failing the batch.
        warned = breached = 0
        for clock in Clock.objects.filter(pk__in=[c.pk for c in clocks]).select_related(
            "ticket", "ticket__organization"
        ):
            was_warned, was_breached = clock.warned_at is not None, clock.state == ClockState.BREACHED
            settle(clock, now=now)
            clock.save()
            warned += int(not was_warned and clock.warned_at is not None)
            breached += int(not was_breached and clock.state == ClockState.BREACHED)
        _summaries_refresh(clocks)
    return len(due), warned, breached


def _record_batch(clocks: list[Clock], *, now: datetime) -> tuple[int, int]:
    """The sweep's fast path: a handful of statements for a whole batch, whatever its size."""
    records: list[tuple[Record, Clock]] = []
    events: list[ClockEvent] = []
    warned_ids, breached_ids = [], []
    for clock in clocks:
        assert clock.due_at is not None
        if clock.warned_at is None and clock.warn_at is not None and clock.warn_at <= now:
            clock.warned_at = now
            warned_ids.append(clock.pk)
            records.append((_record(clock, Record.Kind.WARNING, due_at=clock.warn_at, now=now), clock))
            events.append(event(clock, ClockEvent.Kind.WARNED, now))
        if clock.due_at <= now:
            clock.state, clock.breached_at = ClockState.BREACHED, clock.due_at
            breached_ids.append(clock.pk)
            records.append((_record(clock, Record.Kind.BREACH, due_at=clock.due_at, now=now), clock))
            events.append(event(clock, ClockEvent.Kind.BREACHED, now, detected_by=Record.DetectedBy.SWEEP))
    breached = set(breached_ids)
    Record.objects.bulk_create([record for record, _ in records])
    ClockEvent.objects.bulk_create(events)
    # Two plain UPDATEs: the same values for every row, so no per-row CASE expression to build.
    Clock.objects.filter(pk__in=warned_ids).update(warned_at=now, updated_at=now)
    Clock.objects.filter(pk__in=breached_ids).update(state=ClockState.BREACHED, breached_at=F("due_at"), updated_at=now)
    # A warning that falls due with its own breach (a sweep catching up) is recorded, but only the breach is news.
    notify_records(
        [
            (record, clock)
            for record, clock in records
            if not (record.kind == Record.Kind.WARNING and clock.pk in breached)
        ]
    )
    _summaries_refresh(clocks)
    warned = sum(1 for record, _ in records if record.kind == Record.Kind.WARNING)
    return warned, len(records) - warned


def _record(clock: Clock, kind: str, *, due_at: datetime, now: datetime) -> Record:
    return Record(
        organization_id=clock.organization_id,
        clock=clock,
        ticket_id=clock.ticket_id,
        kind=kind,
        clock_kind=clock.kind,
        epoch=clock.epoch,
        due_at=due_at,
        recorded_at=now,
        detected_by=Record.DetectedBy.SWEEP,
    )


def _summaries_refresh(clocks: list[Clock]) -> None:
    """Copy the current clocks of the swept tickets onto the ticket rows, in one read and one write."""
    current: dict[int, dict[str, Clock]] = {}
    siblings = (
        Clock.objects.filter(ticket_id__in={clock.ticket_id for clock in clocks})
        .only(*SUMMARY_SOURCE_FIELDS)
        .order_by("ticket_id", "epoch")
    )
    for clock in siblings:
        current.setdefault(clock.ticket_id, {})[clock.kind] = clock  # the latest epoch wins
    ticket_sla_summaries_set(summaries=[summary_of(ticket_id, kinds) for ticket_id, kinds in current.items()])


def sweeper_lag_seconds(*, now: datetime) -> float:
    """How long the oldest due warning or breach has waited to be recorded (0 when nothing is overdue)."""
    running = Clock.objects.filter(state=ClockState.RUNNING)
    oldest_due = running.filter(due_at__lte=now).order_by("due_at").values_list("due_at", flat=True).first()
    oldest_warning = (
        running.filter(warned_at__isnull=True, warn_at__lte=now).order_by("warn_at").values_list("warn_at", flat=True)
    ).first()
    moments = [moment for moment in (oldest_due, oldest_warning) if moment is not None]
    return max(((now - moment).total_seconds() for moment in moments), default=0.0)
