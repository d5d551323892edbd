from dataclasses import dataclass
from datetime import datetime

from tickets.models import Ticket


@dataclass(frozen=True)
class ClockSummary:
    state: str
    due_at: datetime | None
    remaining_seconds: float | None  # open time left, kept while the clock is paused


@dataclass(frozen=True)
class TicketSlaSummary:
    ticket_id: int
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


SUMMARY_FIELDS = [
    "sla_first_response_state",
    "sla_first_response_due_at",
    "sla_first_response_remaining_seconds",
    "sla_resolution_state",
    "sla_resolution_due_at",
    "sla_resolution_remaining_seconds",
    "sla_policy_version",
    "sla_next_due_at",
]


def ticket_sla_summaries_set(*, summaries: list[TicketSlaSummary]) -> None:
    """Copy the state of tickets' current clocks onto their rows. Called only by `sla`, in the transaction that
    changed the clocks, so the summary never disagrees with them."""
    # bulk_update is atomic by itself: no savepoint of our own on this hot path.
    Ticket.objects.bulk_update([summary.as_ticket() for summary in summaries], SUMMARY_FIELDS, batch_size=500)
