"""The year 2025 (in its own timezone) of one organization's tickets with their SLA clocks, events, breaches and
exclusions, written with bulk_create: tens of thousands of tickets in seconds, shaped like real work (most clocks
met, some breached, some paused while waiting on the customer, a few reopened, a few still open)."""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection

from reports.models import BreachExclusion, BreachExclusionChange
from sla.models import Clock, ClockEvent, ClockKind, ClockState, Record
from sla.policy import effective_policy, first_response_target, resolution_target
from tenancy.models import Contract, Organization, User
from tickets.models import Priority, Status, Ticket, TicketType

BATCH = 5000


def seed_year(*, organization: Organization, contract: Contract, staff: User, tickets: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    policy = effective_policy(package=contract.package, overrides={})
    year_start = datetime(2025, 1, 1, tzinfo=ZoneInfo(organization.timezone))
    spacing = timedelta(days=365) / tickets
    rows = []
    for number in range(1, tickets + 1):
        received = year_start + spacing * (number - 0.5)
        rows.append(
            Ticket(
                organization=organization,
                number=number,
                reference=f"{organization.reference_prefix}-{number}",
                subject=f"Seeded ticket {number}",
                type=rng.choice(TicketType.values),
                priority=rng.choice(Priority.values),
                status=Status.RESOLVED,
                source="portal",
                received_at=received,
                last_activity_at=received,
                resolved_at=received,
            )
        )
    Ticket.objects.bulk_create(rows, batch_size=BATCH)  # sets each row's primary key
    clocks: list[Clock] = []
    for ticket in rows:
        targets = {
            ClockKind.FIRST_RESPONSE: first_response_target(policy, priority=ticket.priority),
            ClockKind.RESOLUTION: resolution_target(policy, ticket_type=ticket.type, priority=ticket.priority),
        }
        clocks.append(_clock(rng, ticket, ClockKind.FIRST_RESPONSE, 0, ticket.received_at, targets, contract, policy))
        clocks.append(_clock(rng, ticket, ClockKind.RESOLUTION, 0, ticket.received_at, targets, contract, policy))
        if rng.random() < 0.05:
            reopened = ticket.received_at + timedelta(hours=rng.uniform(5, 48))
            clocks.append(_clock(rng, ticket, ClockKind.RESOLUTION, 1, reopened, targets, contract, policy))
    Clock.objects.bulk_create(clocks, batch_size=BATCH)
    _events_and_records(rng, organization, clocks, staff)


def _clock(rng, ticket, kind, epoch, started, targets, contract, policy) -> Clock:
    target = targets[kind]
    roll = rng.random()
    paused_seconds = 0.0
    if kind == ClockKind.RESOLUTION and rng.random() < 0.15:
        paused_seconds = float(rng.randint(600, 8 * 3600))
    if roll < 0.02:
        state, taken = ClockState.RUNNING, None
    elif roll < 0.10:
        state, taken = ClockState.BREACHED, target * rng.uniform(1.01, 3)
    else:
        state, taken = ClockState.MET, target * rng.uniform(0.05, 0.99)
    stopped = started + timedelta(seconds=taken + paused_seconds) if taken is not None else None
    due = started + timedelta(seconds=target + paused_seconds)
    return Clock(
        organization_id=ticket.organization_id,
        ticket=ticket,
        kind=kind,
        epoch=epoch,
        state=state,
        started_at=started,
        target_seconds=target,
        anchored_at=started,
        remaining_seconds=target,
        due_at=due,
        warn_at=started + timedelta(seconds=target * 0.75),
        paused_seconds=paused_seconds,
        stopped_at=stopped,
        breached_at=due if state == ClockState.BREACHED else None,
        contract=contract,
        policy_version=0,
        policy=policy,
    )


def _routine_events(organization: Organization) -> None:
    """Every clock's start and stop events, which the reports never read but which give the event table its real
    size, written in two statements from the clocks themselves: a model instance each would triple the seeding time.
    """
    events, clocks = (
        connection.ops.quote_name(ClockEvent._meta.db_table),
        connection.ops.quote_name(Clock._meta.db_table),
    )
    columns = "created_at, updated_at, organization_id, clock_id, kind, at, due_at, detail"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {events} ({columns}) SELECT started_at, started_at, organization_id, id, %s, started_at, "  # noqa: S608 (model table names)
            f"due_at, %s FROM {clocks} WHERE organization_id = %s",
            [ClockEvent.Kind.STARTED, "{}", organization.pk],
        )
        cursor.execute(
            f"INSERT INTO {events} ({columns}) SELECT stopped_at, stopped_at, organization_id, id, "  # noqa: S608
            f"CASE WHEN state = %s THEN %s ELSE %s END, stopped_at, due_at, %s FROM {clocks} "
            "WHERE organization_id = %s AND stopped_at IS NOT NULL",
            [ClockState.MET, ClockEvent.Kind.MET, ClockEvent.Kind.STOPPED, "{}", organization.pk],
        )


def _events_and_records(rng, organization, clocks, staff) -> None:
    _routine_events(organization)
    events, records = [], []
    for clock in clocks:
        if clock.paused_seconds:
            # Paused halfway through the time it took, so it resumes before it stops.
            taken = (
                (clock.stopped_at - clock.started_at).total_seconds() - clock.paused_seconds if clock.stopped_at else 0
            )
            paused = clock.started_at + timedelta(seconds=taken / 2 if clock.stopped_at else 1200)
            reason = {"reason": "waiting_on_customer"}
            events.append(ClockEvent(organization=organization, clock=clock, kind="paused", at=paused, detail=reason))
            resumed = paused + timedelta(seconds=clock.paused_seconds)
            events.append(ClockEvent(organization=organization, clock=clock, kind=ClockEvent.Kind.RESUMED, at=resumed))
        if clock.state == ClockState.BREACHED:
            records.append(
                Record(
                    organization=organization,
                    clock=clock,
                    ticket_id=clock.ticket_id,
                    kind=Record.Kind.BREACH,
                    clock_kind=clock.kind,
                    epoch=clock.epoch,
                    due_at=clock.due_at,
                    recorded_at=clock.due_at,
                    detected_by=Record.DetectedBy.SWEEP,
                )
            )
    ClockEvent.objects.bulk_create(events, batch_size=BATCH)
    Record.objects.bulk_create(records, batch_size=BATCH)
    excluded = [record for record in records if rng.random() < 0.1]
    exclusions = BreachExclusion.objects.bulk_create(
        [
            BreachExclusion(
                organization=organization,
                record=record,
                clock_id=record.clock_id,
                excluded=True,
                category="customer_delay",
                reason="Seeded",
                decided_by=staff,
                decided_at=record.due_at,
            )
            for record in excluded
        ],
        batch_size=BATCH,
    )
    BreachExclusionChange.objects.bulk_create(
        [
            BreachExclusionChange(
                organization=organization,
                exclusion=exclusion,
                action="excluded",
                category=exclusion.category,
                reason=exclusion.reason,
                changed_by=staff,
                changed_at=exclusion.decided_at,
            )
            for exclusion in exclusions
        ],
        batch_size=BATCH,
    )
