from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from sla.models import Clock, ClockEvent, ClockState
from sla.services.clocks import current_clocks, projected_due, retarget, summarize
from sla.services.policies import policy_in_force
from tenancy.models import Organization
from tickets.models import OPEN_STATUSES, Ticket


@dataclass(frozen=True)
class DeadlineMove:
    ticket_id: str
    reference: str
    clock: str
    target_before: int
    target_after: int
    due_before: datetime | None
    due_after: datetime | None


def _open_clocks(organization: Organization, *, lock: bool) -> list[tuple[Ticket, Clock]]:
    tickets = Ticket.objects.for_organization(organization).filter(status__in=OPEN_STATUSES).order_by("pk")
    if lock:
        tickets = tickets.select_for_update(of=("self",))
    return [
        (ticket, clock)
        for ticket in tickets.select_related("organization")
        for clock in current_clocks(ticket, lock=lock).values()
        if clock.state in (ClockState.RUNNING, ClockState.PAUSED)
    ]


def sla_rebaseline_preview(*, organization: Organization, now: datetime) -> list[DeadlineMove]:
    """Which open tickets' deadlines would move if they followed the policy in force now. Writes nothing."""
    _, _, policy = policy_in_force(organization=organization, at=now)
    moves = []
    for ticket, clock in _open_clocks(organization, lock=False):
        target, due = projected_due(clock, ticket=ticket, policy=policy, now=now)
        if target != clock.target_seconds or due != clock.due_at:
            moves.append(
                DeadlineMove(
                    str(ticket.public_id), ticket.reference, clock.kind, clock.target_seconds, target, clock.due_at, due
                )
            )
    return moves


@transaction.atomic
def sla_rebaseline_apply(*, organization: Organization, now: datetime) -> list[DeadlineMove]:
    """Move every open ticket's running and paused clocks onto the policy in force now (admins preview first)."""
    moves = sla_rebaseline_preview(organization=organization, now=now)
    contract, version, policy = policy_in_force(organization=organization, at=now)
    touched: dict[int, Ticket] = {}
    for ticket, clock in _open_clocks(organization, lock=True):
        retarget(
            clock,
            ticket=ticket,
            now=now,
            kind=ClockEvent.Kind.REBASELINED,
            reason=f"re-baselined to v{version}",
            policy=(contract.pk, version, policy),
        )
        touched[ticket.pk] = ticket
    for ticket in touched.values():
        summarize(ticket, current_clocks(ticket, lock=False))
    return moves
