"""Receivers translate ticket lifecycle signals into this app's clock services; they run in the ticket's
transaction, after the tickets service has locked the ticket row."""

from typing import Any

from django.utils import timezone

from sla.services import (
    sla_clocks_plan,
    sla_clocks_recompute,
    sla_clocks_start,
    sla_first_response_stop,
    sla_resolution_pause,
    sla_resolution_rearm,
    sla_resolution_resume,
    sla_resolution_stop,
)
from tenancy.models import Contract
from tickets.models import Status, Ticket

DONE = (Status.RESOLVED, Status.CLOSED)


def on_ticket_opening(sender: type[Ticket], *, ticket: Ticket, contract: Contract | None, **kwargs: Any) -> None:
    sla_clocks_plan(ticket=ticket, contract_now=contract)


def on_ticket_opened(sender: type[Ticket], *, ticket: Ticket, contract: Contract | None, **kwargs: Any) -> None:
    sla_clocks_start(ticket=ticket, now=timezone.now(), contract_now=contract)


def on_ticket_replied(sender: type[Ticket], *, ticket: Ticket, first_response: bool, **kwargs: Any) -> None:
    if first_response:
        assert ticket.first_responded_at is not None
        sla_first_response_stop(ticket=ticket, at=ticket.first_responded_at, now=timezone.now())


def on_ticket_status_changed(
    sender: type[Ticket], *, ticket: Ticket, old_status: str, new_status: str, **kwargs: Any
) -> None:
    now = timezone.now()
    if new_status in DONE and old_status not in DONE:
        sla_resolution_stop(ticket=ticket, at=now, now=now)
    elif old_status == Status.RESOLVED and new_status == Status.OPEN:
        sla_resolution_rearm(ticket=ticket, at=now)
    elif new_status == Status.WAITING_ON_CUSTOMER:
        sla_resolution_pause(ticket=ticket, at=now, reason="waiting_on_customer")
    elif old_status == Status.WAITING_ON_CUSTOMER:
        sla_resolution_resume(ticket=ticket, at=now)


def on_ticket_retargeted(sender: type[Ticket], *, ticket: Ticket, **kwargs: Any) -> None:
    reason = "priority" if "new_priority" in kwargs else "type"
    sla_clocks_recompute(ticket=ticket, now=timezone.now(), reason=f"{reason} changed")
