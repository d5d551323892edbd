"""SLA clocks explained in words: what a ticket page shows customers and engineers."""

from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sla.models import Clock, ClockEvent, ClockKind, ClockState
from tenancy.timezones import format_in_timezone

PAUSE_REASONS = {"waiting_on_customer": "waiting on customer", "maintenance": "maintenance window"}
PAUSED_WHILE = {"waiting_on_customer": "we wait for the customer's answer", "maintenance": "a maintenance window runs"}


def duration(seconds: float) -> str:
    minutes = round(abs(seconds) / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [
        f"{days} d" if days else "",
        f"{hours} h" if hours else "",
        f"{minutes} min" if minutes or not (days or hours) else "",
    ]
    return " ".join(part for part in parts if part)


def target_words(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds} seconds"


@dataclass
class ClockView:
    kind: str
    label: str
    state: str
    state_label: str
    target: str
    due: str
    left: str
    promise: str
    timeline: list[str] = field(default_factory=list)


def clock_view(clock: Clock, events: list[ClockEvent], *, zone: tzinfo, now: datetime) -> ClockView:
    def at(moment: datetime) -> str:
        return format_in_timezone(moment, zone)

    target = target_words(clock.target_seconds)
    due = at(clock.due_at) if clock.due_at else ""
    responds = clock.kind == ClockKind.FIRST_RESPONSE
    state_label, left, promise = clock.get_state_display(), "", ""
    if clock.state == ClockState.RUNNING and clock.due_at:
        seconds = (clock.due_at - now).total_seconds()
        left = f"{duration(seconds)} left" if seconds >= 0 else f"{duration(seconds)} late"
        verb = "respond" if responds else "resolve this"
        if seconds < 0:
            state_label = "Overdue"
            promise = f"Overdue: WALT was to {verb} by {due} (your contract: {target})."
        else:
            state_label = "Running · at risk" if clock.warned_at else state_label
            promise = f"WALT will {verb} by {due} (your contract: {target})."
    elif clock.state == ClockState.PAUSED:
        reason = PAUSE_REASONS.get(clock.pause_reason, clock.pause_reason)
        state_label = f"Paused: {reason}"
        left = f"{duration(clock.remaining_seconds)} left when it resumes"
        promise = f"This clock is paused while {PAUSED_WHILE.get(clock.pause_reason, reason)}."
    elif clock.state == ClockState.MET and clock.stopped_at:
        promise = f"{'Responded' if responds else 'Resolved'} at {at(clock.stopped_at)}, within {target}."
    elif clock.state == ClockState.BREACHED:
        missed = at(clock.breached_at) if clock.breached_at else due
        promise = f"The {target} target was missed (due {missed})."
        if clock.stopped_at:
            promise += f" {'Responded' if responds else 'Resolved'} at {at(clock.stopped_at)}."
    return ClockView(
        kind=clock.kind,
        label=clock.get_kind_display() + (f" (reopened, round {clock.epoch + 1})" if clock.epoch else ""),
        state=clock.state,
        state_label=state_label,
        target=target,
        due=due,
        left=left,
        promise=promise,
        timeline=[_event_line(event, zone=zone) for event in events],
    )


def _event_line(event: ClockEvent, *, zone: tzinfo) -> str:
    when = format_in_timezone(event.at, zone)
    detail = event.detail
    match event.kind:
        case ClockEvent.Kind.STARTED:
            base = "reopened" if detail.get("reopened") else "received"
            return f"{base} {when} + {target_words(int(detail.get('target_seconds', 0) or event.clock.target_seconds))}"
        case ClockEvent.Kind.PAUSED:
            return f"paused {when}: {PAUSE_REASONS.get(detail.get('reason', ''), detail.get('reason', ''))}"
        case ClockEvent.Kind.RESUMED:
            return f"resumed {when}"
        case ClockEvent.Kind.RECOMPUTED | ClockEvent.Kind.REBASELINED:
            return f"{detail.get('reason', event.kind)} {when}: target {target_words(int(detail['target_seconds']))}"
        case _:
            return f"{event.get_kind_display().lower()} {when}"


def clock_views(clocks: list[Clock], events: list[ClockEvent], *, zone: tzinfo, now: datetime) -> list[ClockView]:
    """The current clock of each kind (the latest epoch), in order: first response, then resolution."""
    latest: dict[str, Clock] = {}
    for clock in clocks:
        if clock.kind not in latest or clock.epoch > latest[clock.kind].epoch:
            latest[clock.kind] = clock
    by_clock: dict[int, list[ClockEvent]] = {}
    for event in events:
        by_clock.setdefault(event.clock_id, []).append(event)
    return [
        clock_view(latest[kind], by_clock.get(latest[kind].pk, []), zone=zone, now=now)
        for kind in ClockKind.values
        if kind in latest
    ]
