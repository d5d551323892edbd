"""The life of SLA clocks. Every function here runs inside the transaction of the ticket change that caused it
(the tickets services hold the ticket's row lock), and locks the clocks after the ticket: always in that order."""

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from sla.calendars import Calendar, calendar_from_config
from sla.models import Clock, ClockEvent, ClockKind, ClockState, Record
from sla.notices import notify_records
from sla.policy import first_response_target, resolution_target
from sla.services.policies import policy_in_force
from tenancy.models import Contract
from tickets.models import Ticket
from tickets.services import ClockSummary, TicketSlaSummary, ticket_sla_summary_preset, ticket_sla_summary_set


def calendar_of(clock: Clock) -> Calendar:
    return calendar_from_config(clock.policy["calendar"])


def target_for(clock: Clock, ticket: Ticket) -> int:
    if clock.kind == ClockKind.FIRST_RESPONSE:
        return first_response_target(clock.policy, priority=ticket.priority)
    return resolution_target(clock.policy, ticket_type=ticket.type, priority=ticket.priority)


def schedule(clock: Clock, *, calendar: Calendar) -> None:
    """Set due_at and warn_at of a running clock from its anchor and the open time it has left."""
    clock.due_at = _add(calendar, clock.anchored_at, clock.remaining_seconds)
    if clock.warned_at is not None:
        return
    threshold = float(clock.policy["warning_threshold"])
    left_at_warning = (1 - threshold) * clock.target_seconds
    clock.warn_at = _add(calendar, clock.anchored_at, max(clock.remaining_seconds - left_at_warning, 0))


def _add(calendar: Calendar, start: datetime, seconds: float) -> datetime:
    if seconds < 0 and calendar.always_open:
        return start + timedelta(seconds=seconds)  # already late: the deadline lies in the past
    return calendar.add(start, max(seconds, 0))


def event(clock: Clock, kind: str, at: datetime, **detail: Any) -> ClockEvent:
    return ClockEvent(
        organization_id=clock.organization_id, clock=clock, kind=kind, at=at, due_at=clock.due_at, detail=detail
    )


def record(
    clock: Clock, *, kind: str, due_at: datetime, now: datetime, detected_by: str, notify: bool = True
) -> Record | None:
    """Record a warning or breach once and notify it. The clock's row lock orders the callers; the unique
    constraint is the backstop, and only the caller whose insert wins sends notices."""
    try:
        with transaction.atomic():
            row = Record.objects.create(
                organization_id=clock.organization_id,
                clock=clock,
                ticket_id=clock.ticket_id,
                kind=kind,
                clock_kind=clock.kind,
                epoch=clock.epoch,
                due_at=due_at,
                recorded_at=now,
                detected_by=detected_by,
            )
    except IntegrityError:
        return None
    if notify:
        notify_records([(row, clock)])
    return row


def settle(clock: Clock, *, now: datetime, detected_by: str = Record.DetectedBy.SWEEP) -> None:
    """Record what is overdue on a running clock before anything else changes it."""
    if clock.state != ClockState.RUNNING or clock.due_at is None:
        return
    if clock.warned_at is None and clock.warn_at is not None and clock.warn_at <= now:
        clock.warned_at = now
        # A warning that falls due with its own breach is recorded, but only the breach is news.
        record(
            clock,
            kind=Record.Kind.WARNING,
            due_at=clock.warn_at,
            now=now,
            detected_by=detected_by,
            notify=clock.due_at > now,
        )
        event(clock, ClockEvent.Kind.WARNED, now).save()
    if clock.due_at <= now:
        breach(clock, now=now, detected_by=detected_by)


def breach(clock: Clock, *, now: datetime, detected_by: str) -> None:
    assert clock.due_at is not None
    clock.state = ClockState.BREACHED
    clock.breached_at = clock.due_at
    record(clock, kind=Record.Kind.BREACH, due_at=clock.due_at, now=now, detected_by=detected_by)
    event(clock, ClockEvent.Kind.BREACHED, now, detected_by=detected_by).save()


def current_clocks(ticket: Ticket, *, lock: bool = True) -> dict[str, Clock]:
    """The latest epoch of each clock kind of the ticket."""
    clocks = Clock.objects.for_organization(ticket.organization).filter(ticket=ticket).order_by("kind", "-epoch")
    if lock:
        clocks = clocks.select_for_update()
    latest: dict[str, Clock] = {}
    for clock in clocks:
        latest.setdefault(clock.kind, clock)
    return latest


# What `summary_of` reads of a clock: a sweep loads only these for thousands of tickets at once.
SUMMARY_SOURCE_FIELDS = ("ticket_id", "kind", "epoch", "state", "due_at", "remaining_seconds", "policy_version")


def summary_of(ticket_id: int | None, clocks: dict[str, Clock]) -> TicketSlaSummary:
    def clock_summary(clock: Clock) -> ClockSummary:
        remaining = clock.remaining_seconds if clock.state == ClockState.PAUSED else None
        return ClockSummary(state=clock.state, due_at=clock.due_at, remaining_seconds=remaining)

    resolution = clocks[ClockKind.RESOLUTION]
    return TicketSlaSummary(
        ticket_id=ticket_id,
        first_response=clock_summary(clocks[ClockKind.FIRST_RESPONSE]),
        resolution=clock_summary(resolution),
        policy_version=resolution.policy_version,
    )


def summarize(ticket: Ticket, clocks: dict[str, Clock]) -> None:
    ticket_sla_summary_set(ticket=ticket, summary=summary_of(ticket.pk, clocks))


def new_clock(
    ticket: Ticket, *, kind: str, epoch: int, start: datetime, contract_id: int, version: int, policy: dict[str, Any]
) -> Clock:
    clock = Clock(
        organization_id=ticket.organization_id,
        ticket=ticket,
        kind=kind,
        epoch=epoch,
        started_at=start,
        anchored_at=start,
        contract_id=contract_id,
        policy_version=version,
        policy=policy,
        target_seconds=0,
        remaining_seconds=0,
    )
    clock.target_seconds = target_for(clock, ticket)
    clock.remaining_seconds = clock.target_seconds
    schedule(clock, calendar=calendar_of(clock))
    return clock


def _planned(ticket: Ticket, *, contract_now: Contract | None) -> dict[str, Clock]:
    """Both clocks of a new ticket, from the policy in force when it was received (their snapshot), not stored."""
    contract, version, policy = policy_in_force(
        organization=ticket.organization, at=ticket.received_at, contract_now=contract_now
    )
    return {
        kind: new_clock(
            ticket,
            kind=kind,
            epoch=0,
            start=ticket.received_at,
            contract_id=contract.pk,
            version=version,
            policy=policy,
        )
        for kind in ClockKind.values
    }


def sla_clocks_plan(*, ticket: Ticket, contract_now: Contract | None = None) -> None:
    """Before a new ticket is stored: give its row the summary of the clocks it will start with."""
    ticket_sla_summary_preset(ticket=ticket, summary=summary_of(None, _planned(ticket, contract_now=contract_now)))


def sla_clocks_start(*, ticket: Ticket, now: datetime, contract_now: Contract | None = None) -> None:
    """Arm both clocks of a stored new ticket, as planned, with their policy snapshot."""
    clocks = _planned(ticket, contract_now=contract_now)
    Clock.objects.bulk_create(clocks.values())
    ClockEvent.objects.bulk_create(
        event(clock, ClockEvent.Kind.STARTED, ticket.received_at, target_seconds=clock.target_seconds)
        for clock in clocks.values()
    )
    late = [clock for clock in clocks.values() if clock.warn_at is not None and clock.warn_at <= now]
    for clock in late:  # an alert received long ago may already be late
        settle(clock, now=now)
        clock.save()
    if late or not ticket.sla_first_response_state:  # otherwise the row was stored with this summary
        summarize(ticket, clocks)


def _stop(clock: Clock, *, at: datetime, now: datetime, detected_by: str) -> None:
    if clock.state in (ClockState.MET,) or clock.stopped_at is not None:
        return
    if clock.state == ClockState.RUNNING:
        assert clock.due_at is not None
        if at > clock.due_at:  # the response itself is late: it records the breach, whatever the sweep did
            settle(clock, now=now, detected_by=detected_by)
        elif clock.warned_at is None and clock.warn_at is not None and clock.warn_at <= at:
            settle(clock, now=at, detected_by=detected_by)
    clock.stopped_at = at
    if clock.state != ClockState.BREACHED:
        clock.state = ClockState.MET
        event(clock, ClockEvent.Kind.MET, at).save()
    else:
        event(clock, ClockEvent.Kind.STOPPED, at).save()
    clock.save()


def sla_first_response_stop(*, ticket: Ticket, at: datetime, now: datetime) -> None:
    clocks = current_clocks(ticket)
    _stop(clocks[ClockKind.FIRST_RESPONSE], at=at, now=now, detected_by=Record.DetectedBy.RESPONSE)
    summarize(ticket, clocks)


def sla_resolution_stop(*, ticket: Ticket, at: datetime, now: datetime) -> None:
    """Resolving also answers the ticket: a first-response clock still running stops with it."""
    clocks = current_clocks(ticket)
    _stop(clocks[ClockKind.FIRST_RESPONSE], at=at, now=now, detected_by=Record.DetectedBy.RESOLUTION)
    _stop(clocks[ClockKind.RESOLUTION], at=at, now=now, detected_by=Record.DetectedBy.RESOLUTION)
    summarize(ticket, clocks)


def sla_resolution_pause(*, ticket: Ticket, at: datetime, reason: str) -> None:
    clocks = current_clocks(ticket)
    clock = clocks[ClockKind.RESOLUTION]
    settle(clock, now=at)
    if clock.state == ClockState.RUNNING:
        assert clock.due_at is not None
        clock.remaining_seconds = calendar_of(clock).open_seconds_between(at, clock.due_at)
        clock.state, clock.paused_at, clock.pause_reason = ClockState.PAUSED, at, reason
        clock.due_at = clock.warn_at = None
        event(clock, ClockEvent.Kind.PAUSED, at, reason=reason).save()
    clock.save()
    summarize(ticket, clocks)


def sla_resolution_resume(*, ticket: Ticket, at: datetime) -> None:
    clocks = current_clocks(ticket)
    clock = clocks[ClockKind.RESOLUTION]
    if clock.state == ClockState.PAUSED:
        assert clock.paused_at is not None
        clock.paused_seconds += (at - clock.paused_at).total_seconds()
        clock.state, clock.anchored_at, clock.paused_at, clock.pause_reason = ClockState.RUNNING, at, None, ""
        schedule(clock, calendar=calendar_of(clock))
        event(clock, ClockEvent.Kind.RESUMED, at).save()
        settle(clock, now=at)
        clock.save()
    summarize(ticket, clocks)


def sla_resolution_rearm(*, ticket: Ticket, at: datetime) -> None:
    """A reopened ticket gets a new resolution clock (the next epoch) under the ticket's original snapshot."""
    clocks = current_clocks(ticket)
    previous = clocks[ClockKind.RESOLUTION]
    clock = new_clock(
        ticket,
        kind=ClockKind.RESOLUTION,
        epoch=previous.epoch + 1,
        start=at,
        contract_id=previous.contract_id,
        version=previous.policy_version,
        policy=previous.policy,
    )
    clock.save()
    event(clock, ClockEvent.Kind.STARTED, at, reopened=True).save()
    clocks[ClockKind.RESOLUTION] = clock
    summarize(ticket, clocks)


def sla_clocks_recompute(*, ticket: Ticket, now: datetime, reason: str) -> None:
    """A priority or type change moves the running deadlines: the open time already used counts against the new
    target, taken from the clock's own policy snapshot."""
    clocks = current_clocks(ticket)
    for clock in clocks.values():
        retarget(clock, ticket=ticket, now=now, kind=ClockEvent.Kind.RECOMPUTED, reason=reason)
    summarize(ticket, clocks)


def open_time_left(clock: Clock, *, now: datetime) -> float:
    if clock.state == ClockState.RUNNING and clock.due_at is not None:
        return calendar_of(clock).open_seconds_between(now, clock.due_at)
    return clock.remaining_seconds


def projected_due(
    clock: Clock, *, ticket: Ticket, policy: dict[str, Any], now: datetime
) -> tuple[int, datetime | None]:
    """The target and deadline the clock would have under `policy`, keeping the open time it has already used."""
    used = clock.target_seconds - open_time_left(clock, now=now)
    target = target_for(Clock(kind=clock.kind, policy=policy), ticket)
    if clock.state != ClockState.RUNNING:
        return target, None
    return target, _add(calendar_from_config(policy["calendar"]), now, target - used)


def retarget(
    clock: Clock,
    *,
    ticket: Ticket,
    now: datetime,
    kind: str,
    reason: str,
    policy: tuple[int, int, dict[str, Any]] | None = None,
) -> None:
    """Give a running or paused clock a new target (after a priority or type change, or under a new policy)."""
    settle(clock, now=now)
    if clock.state in (ClockState.RUNNING, ClockState.PAUSED):
        used = clock.target_seconds - open_time_left(clock, now=now)
        if policy is not None:
            clock.contract_id, clock.policy_version, clock.policy = policy
        clock.target_seconds = target_for(clock, ticket)
        clock.remaining_seconds = clock.target_seconds - used
        if clock.state == ClockState.RUNNING:
            clock.anchored_at = now
            schedule(clock, calendar=calendar_of(clock))
        event(clock, kind, now, reason=reason, target_seconds=clock.target_seconds).save()
        settle(clock, now=now)
    clock.save()
