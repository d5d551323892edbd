from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from tickets.models import SLA_WARNING_PART, Ticket


@dataclass(frozen=True)
class ClockSummary:
    state: str
    due_at: datetime | None
    remaining_seconds: float | None  # open time left, kept while the clock is paused


@dataclass(frozen=True)
class TicketSlaSummary:
    ticket_id: int | None  # None: a new ticket, not stored yet
    first_response: ClockSummary
    resolution: ClockSummary
    policy_version: int

    def as_ticket(self) -> Ticket:
        running = [c.due_at for c in (self.first_response, self.resolution) if c.state == "running" and c.due_at]
        return Ticket(
            pk=self.ticket_id,
            sla_first_response_state=self.first_response.state,
            sla_first_response_due_at=self.first_response.due_at,
            sla_first_response_remaining_seconds=self.first_response.remaining_seconds,
            sla_resolution_state=self.resolution.state,
            sla_resolution_due_at=self.resolution.due_at,
            sla_resolution_remaining_seconds=self.resolution.remaining_seconds,
            sla_policy_version=self.policy_version,
            sla_next_due_at=min(running) if running else None,
        )


_BATCH = 1000
_COLUMNS = (  # the summary columns and their SQL types
    ("sla_first_response_state", "varchar"),
    ("sla_first_response_due_at", "timestamptz"),
    ("sla_first_response_remaining_seconds", "double precision"),
    ("sla_resolution_state", "varchar"),
    ("sla_resolution_due_at", "timestamptz"),
    ("sla_resolution_remaining_seconds", "double precision"),
    ("sla_policy_version", "integer"),
    ("sla_next_due_at", "timestamptz"),
)
SUMMARY_FIELDS = [column for column, _ in _COLUMNS]


def ticket_sla_summary_set(*, ticket: Ticket, summary: TicketSlaSummary) -> None:
    """`ticket_sla_summaries_set` for one ticket the caller holds, whose instance then shows the summary too."""
    ticket_sla_summaries_set(summaries=[summary])
    ticket_sla_summary_preset(ticket=ticket, summary=summary)


def ticket_sla_summary_preset(*, ticket: Ticket, summary: TicketSlaSummary) -> None:
    """Put the summary on the instance only: for a new ticket, before its row is stored with it."""
    written = summary.as_ticket()
    for field in SUMMARY_FIELDS:
        setattr(ticket, field, getattr(written, field))
    ticket.sla_risk_due_at, ticket.sla_at_risk_from = risk_moments(
        summary, received_at=ticket.received_at, answered=ticket.first_responded_at is not None
    )


def ticket_sla_summaries_set(*, summaries: list[TicketSlaSummary]) -> None:
    """Copy the state of tickets' current clocks onto their rows. Called only by `sla`, in the transaction that
    changed the clocks, so the summary never disagrees with them. `updated_at` moves too, so the queue's live
    refresh sees warnings and breaches."""
    if not summaries:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        for start in range(0, len(summaries), _BATCH):
            _update_from_values(summaries[start : start + _BATCH], now=now)
        return
    facts = {pk: (received, responded) for pk, received, responded in _received_and_answered(summaries)}
    tickets = []
    for summary in summaries:
        ticket = summary.as_ticket()
        ticket.updated_at = now
        received_at, first_responded_at = facts[ticket.pk]
        ticket.sla_risk_due_at, ticket.sla_at_risk_from = risk_moments(
            summary, received_at=received_at, answered=first_responded_at is not None
        )
        tickets.append(ticket)
    Ticket.objects.bulk_update(tickets, [*SUMMARY_FIELDS, *RISK_FIELDS, "updated_at"], batch_size=_BATCH)


def _received_and_answered(summaries: list[TicketSlaSummary]) -> list[tuple[int, datetime, datetime | None]]:
    return list(
        Ticket.objects.filter(pk__in=[summary.ticket_id for summary in summaries]).values_list(
            "pk", "received_at", "first_responded_at"
        )
    )


RISK_FIELDS = ("sla_risk_due_at", "sla_at_risk_from")


def risk_moments(
    summary: TicketSlaSummary, *, received_at: datetime, answered: bool
) -> tuple[datetime | None, datetime | None]:
    """What the queue's "breached" and "at risk" views read, derived as the summary is written so that they are
    index ranges: the earliest deadline still to be met, and when the first clock still to be met enters the last
    1/SLA_WARNING_PART of its window (from `received_at` to its deadline). A clock still to be met is running or
    breached, and for the first response, nobody has answered yet. `_DERIVED_ASSIGNMENTS` says the same in SQL."""
    pending = [
        clock.due_at
        for clock, still_open in ((summary.first_response, not answered), (summary.resolution, True))
        if still_open and clock.state in (_RUNNING, _BREACHED) and clock.due_at is not None
    ]
    if not pending:
        return None, None
    return min(pending), min(due - (due - received_at) / SLA_WARNING_PART for due in pending)


_RUNNING, _BREACHED = "running", "breached"


def _update_from_values(summaries: list[TicketSlaSummary], *, now: datetime) -> None:
    """One UPDATE … FROM (VALUES …) for a sweep's batch: PostgreSQL joins the rows instead of Django building a
    CASE expression per row and column, which dominated the cost of recording thousands of breaches."""
    row = "(" + ", ".join(["%s::bigint", *(f"%s::{kind}" for _, kind in _COLUMNS)]) + ")"
    assignments = ", ".join([*(f"{column} = v.{column}" for column, _ in _COLUMNS), _DERIVED_ASSIGNMENTS])
    names = ", ".join(["id", *(column for column, _ in _COLUMNS)])
    table = Ticket._meta.db_table
    sql = (
        f"UPDATE {table} AS t SET {assignments}, updated_at = %s "  # noqa: S608 - only our own identifiers
        f"FROM (VALUES {', '.join([row] * len(summaries))}) AS v({names}) WHERE t.id = v.id"
    )
    params: list[Any] = [now]
    for summary in summaries:
        ticket = summary.as_ticket()
        params.extend([ticket.pk, *(getattr(ticket, column) for column, _ in _COLUMNS)])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# The derived columns as `risk_moments` defines them, in the same UPDATE (LEAST skips NULLs on PostgreSQL).
_PENDING = {
    "first_response": f"v.sla_first_response_state IN ('{_RUNNING}', '{_BREACHED}') AND t.first_responded_at IS NULL",
    "resolution": f"v.sla_resolution_state IN ('{_RUNNING}', '{_BREACHED}')",
}
_RISK_FROM = f"v.sla_{{clock}}_due_at - (v.sla_{{clock}}_due_at - t.received_at) / {SLA_WARNING_PART}"
_DERIVED_ASSIGNMENTS = (
    "sla_risk_due_at = LEAST("
    + ", ".join(f"CASE WHEN {pending} THEN v.sla_{clock}_due_at END" for clock, pending in _PENDING.items())
    + "), sla_at_risk_from = LEAST("
    + ", ".join(f"CASE WHEN {pending} THEN {_RISK_FROM.format(clock=clock)} END" for clock, pending in _PENDING.items())
    + ")"
)
