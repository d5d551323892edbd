"""Maintenance windows pause clocks only where the contract says so (the SLA itself is 24×7).

A beat task applies the windows every few seconds, but the pauses are exact: a clock pauses at the moment its
organization's window began and resumes at the moment it ended, however late the task runs.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from maintenance.selectors import maintenance_ends_at, maintenance_periods
from sla.models import Clock, ClockEvent, ClockKind, ClockState
from sla.services.clocks import calendar_of, current_clocks, event, schedule, settle, summarize
from tickets.models import Status, Ticket

MAINTENANCE = "maintenance"
WAITING_ON_CUSTOMER = "waiting_on_customer"
_LOOKBACK = timedelta(days=1)  # longer than any window: finds the start of the one in progress


@dataclass(frozen=True)
class MaintenancePauseResult:
    paused: int = 0
    resumed: int = 0


def sla_maintenance_pauses_apply(*, now: datetime | None = None) -> MaintenancePauseResult:
    now = now or timezone.now()
    paused = resumed = 0
    running = Clock.objects.filter(state=ClockState.RUNNING, policy__maintenance_pauses=True)
    for ticket_id in running.values_list("ticket_id", flat=True).distinct():
        paused += _pause_if_in_maintenance(ticket_id=ticket_id, now=now)
    waiting = Clock.objects.filter(state=ClockState.PAUSED, pause_reason=MAINTENANCE)
    for ticket_id in waiting.values_list("ticket_id", flat=True).distinct():
        resumed += _resume_if_maintenance_ended(ticket_id=ticket_id, now=now)
    return MaintenancePauseResult(paused=paused, resumed=resumed)


@transaction.atomic
def _pause_if_in_maintenance(*, ticket_id: int, now: datetime) -> int:
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("organization").get(pk=ticket_id)
    periods = maintenance_periods(organization=ticket.organization, start=now - _LOOKBACK, end=now + timedelta(0, 0, 1))
    window = next(((start, end) for start, end in periods if start <= now < end), None)
    if window is None:
        return 0
    clocks = current_clocks(ticket)
    count = 0
    for clock in clocks.values():
        if clock.state != ClockState.RUNNING or not clock.policy.get("maintenance_pauses"):
            continue
        at = max(window[0], clock.anchored_at)
        settle(clock, now=at)  # anything already late before the window began stays late
        if clock.state == ClockState.RUNNING:
            assert clock.due_at is not None
            clock.remaining_seconds = calendar_of(clock).open_seconds_between(at, clock.due_at)
            clock.state, clock.paused_at, clock.pause_reason = ClockState.PAUSED, at, MAINTENANCE
            clock.due_at = clock.warn_at = None
            event(clock, ClockEvent.Kind.PAUSED, at, reason=MAINTENANCE).save()
            count += 1
        clock.save()
    summarize(ticket, clocks)
    return count


@transaction.atomic
def _resume_if_maintenance_ended(*, ticket_id: int, now: datetime) -> int:
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("organization").get(pk=ticket_id)
    clocks = current_clocks(ticket)
    count = 0
    for clock in clocks.values():
        if clock.state != ClockState.PAUSED or clock.pause_reason != MAINTENANCE:
            continue
        assert clock.paused_at is not None
        ended = maintenance_ends_at(organization=ticket.organization, at=clock.paused_at) or clock.paused_at
        if ended > now:
            continue
        if clock.kind == ClockKind.RESOLUTION and ticket.status == Status.WAITING_ON_CUSTOMER:
            clock.pause_reason = WAITING_ON_CUSTOMER  # the window is over, but the customer still owes an answer
        else:
            clock.paused_seconds += (ended - clock.paused_at).total_seconds()
            clock.state, clock.anchored_at, clock.paused_at, clock.pause_reason = ClockState.RUNNING, ended, None, ""
            schedule(clock, calendar=calendar_of(clock))
            event(clock, ClockEvent.Kind.RESUMED, ended, reason=MAINTENANCE).save()
            settle(clock, now=now)
            count += 1
        clock.save()
    summarize(ticket, clocks)
    return count
