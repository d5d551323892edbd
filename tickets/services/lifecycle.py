from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.exceptions import ApplicationError, PermissionDeniedError
from tenancy.models import User
from tickets.entitlements import PREMIUM_ONLY_EXPLANATION, is_guidance_only, ticket_types_for
from tickets.models import Priority, Status, Ticket, TicketEvent, TicketType
from tickets.services._common import locked, package_now, record_event, require_participant, require_staff
from tickets.signals import ticket_assigned, ticket_priority_changed, ticket_status_changed, ticket_type_changed

# Who may move a ticket from one status to another. Closed is final for everyone.
_STAFF_MOVES = {
    Status.NEW: {Status.OPEN, Status.WAITING_ON_CUSTOMER, Status.RESOLVED, Status.CLOSED},
    Status.OPEN: {Status.WAITING_ON_CUSTOMER, Status.RESOLVED, Status.CLOSED},
    Status.WAITING_ON_CUSTOMER: {Status.OPEN, Status.RESOLVED, Status.CLOSED},
    Status.RESOLVED: {Status.OPEN, Status.CLOSED},
    Status.CLOSED: set(),
}
_CUSTOMER_MOVES = {
    Status.NEW: {Status.CLOSED},
    Status.OPEN: {Status.CLOSED},
    Status.WAITING_ON_CUSTOMER: {Status.OPEN, Status.CLOSED},
    Status.RESOLVED: {Status.OPEN, Status.CLOSED},
    Status.CLOSED: set(),
}


def reopen_period() -> timedelta:
    return timedelta(days=settings.TICKET_REOPEN_PERIOD_DAYS)


def apply_status_change(*, ticket: Ticket, actor: User | None, new_status: str) -> None:
    """Move a locked ticket to `new_status`, stamping the lifecycle times, auditing and announcing it."""
    old_status = ticket.status
    if new_status == old_status:
        return
    now = timezone.now()
    if old_status == Status.RESOLVED and new_status == Status.OPEN:
        assert ticket.resolved_at is not None
        if now - ticket.resolved_at > reopen_period():
            raise ApplicationError(
                f"{ticket.reference} was resolved more than {settings.TICKET_REOPEN_PERIOD_DAYS} days ago and can no "
                "longer be reopened. Open a new ticket and mention this reference.",
                errors=[{"field": "status", "code": "reopen_period_over", "detail": "Too late to reopen."}],
            )
        ticket.resolved_at = None
    if new_status in (Status.RESOLVED, Status.CLOSED) and ticket.resolved_at is None:
        ticket.resolved_at = now
    if new_status == Status.CLOSED:
        ticket.closed_at = now
    ticket.status = new_status
    ticket.last_activity_at = now
    ticket.save(update_fields=["status", "resolved_at", "closed_at", "last_activity_at", "updated_at"])
    record_event(
        ticket=ticket, actor=actor, kind=TicketEvent.Kind.STATUS_CHANGED, detail={"from": old_status, "to": new_status}
    )
    ticket_status_changed.send(sender=Ticket, ticket=ticket, old_status=old_status, new_status=new_status, actor=actor)


@transaction.atomic
def ticket_status_change(*, ticket: Ticket, actor: User, status: str) -> Ticket:
    require_participant(user=actor, organization=ticket.organization)
    ticket = locked(ticket)
    if status not in Status.values:
        raise ApplicationError(
            "Unknown status.", errors=[{"field": "status", "code": "invalid_choice", "detail": status}]
        )
    if status == ticket.status:
        return ticket
    allowed = (_STAFF_MOVES if actor.is_walt_staff else _CUSTOMER_MOVES)[Status(ticket.status)]
    if status not in allowed:
        if ticket.status == Status.CLOSED:
            detail = "Closed tickets are final: open a new ticket and mention this reference."
        elif actor.is_walt_staff:
            detail = f"A {ticket.get_status_display().lower()} ticket cannot become {Status(status).label.lower()}."
        else:
            detail = "You can reopen a resolved ticket or close your ticket; WALT staff set the other statuses."
        raise ApplicationError(detail, errors=[{"field": "status", "code": "invalid_transition", "detail": detail}])
    apply_status_change(ticket=ticket, actor=actor, new_status=status)
    return ticket


@transaction.atomic
def ticket_priority_change(*, ticket: Ticket, actor: User, priority: str) -> Ticket:
    require_staff(user=actor, action="change a ticket's priority")
    if priority not in Priority.values:
        raise ApplicationError(
            "Unknown priority.", errors=[{"field": "priority", "code": "invalid_choice", "detail": priority}]
        )
    ticket = locked(ticket)
    old_priority = ticket.priority
    if priority == old_priority:
        return ticket
    ticket.priority = priority
    ticket.last_activity_at = timezone.now()
    ticket.save(update_fields=["priority", "last_activity_at", "updated_at"])
    record_event(
        ticket=ticket,
        actor=actor,
        kind=TicketEvent.Kind.PRIORITY_CHANGED,
        detail={"from": old_priority, "to": priority},
    )
    ticket_priority_changed.send(
        sender=Ticket, ticket=ticket, old_priority=old_priority, new_priority=priority, actor=actor
    )
    return ticket


@transaction.atomic
def ticket_type_change(*, ticket: Ticket, actor: User, ticket_type: str) -> Ticket:
    require_staff(user=actor, action="change a ticket's type")
    package = package_now(organization=ticket.organization)
    if ticket_type not in TicketType.values or ticket_type not in ticket_types_for(package=package):
        detail = PREMIUM_ONLY_EXPLANATION if ticket_type in TicketType.values else f"Unknown type “{ticket_type}”."
        raise ApplicationError(detail, errors=[{"field": "type", "code": "not_entitled", "detail": detail}])
    ticket = locked(ticket)
    old_type = ticket.type
    if ticket_type == old_type:
        return ticket
    ticket.type = ticket_type
    ticket.guidance_only = is_guidance_only(package=package, ticket_type=ticket_type)
    ticket.last_activity_at = timezone.now()
    ticket.save(update_fields=["type", "guidance_only", "last_activity_at", "updated_at"])
    record_event(
        ticket=ticket, actor=actor, kind=TicketEvent.Kind.TYPE_CHANGED, detail={"from": old_type, "to": ticket_type}
    )
    ticket_type_changed.send(sender=Ticket, ticket=ticket, old_type=old_type, new_type=ticket_type, actor=actor)
    return ticket


@transaction.atomic
def ticket_assign(*, ticket: Ticket, actor: User, assignee: User | None) -> Ticket:
    """Assign a ticket to a WALT engineer or admin (None unassigns)."""
    require_staff(user=actor, action="assign tickets")
    if assignee is not None and not assignee.is_walt_staff:
        raise PermissionDeniedError("Tickets can only be assigned to WALT staff.")
    ticket = locked(ticket)
    old_assignee = ticket.assignee
    if old_assignee == assignee:
        return ticket
    ticket.assignee = assignee
    ticket.last_activity_at = timezone.now()
    ticket.save(update_fields=["assignee", "last_activity_at", "updated_at"])
    record_event(
        ticket=ticket,
        actor=actor,
        kind=TicketEvent.Kind.ASSIGNED,
        detail={"from": old_assignee.email if old_assignee else None, "to": assignee.email if assignee else None},
    )
    ticket_assigned.send(sender=Ticket, ticket=ticket, old_assignee=old_assignee, new_assignee=assignee, actor=actor)
    return ticket


@transaction.atomic
def ticket_edit(*, ticket: Ticket, actor: User, subject: str | None = None, description: str | None = None) -> Ticket:
    """Customers correct what they wrote; staff may too. Closed tickets stay as they were."""
    require_participant(user=actor, organization=ticket.organization)
    ticket = locked(ticket)
    if ticket.status == Status.CLOSED:
        raise ApplicationError(
            "Closed tickets are final.", errors=[{"field": "status", "code": "closed", "detail": "Closed."}]
        )
    if subject is not None:
        if not subject.strip():
            raise ApplicationError(
                "The subject is empty.", errors=[{"field": "subject", "code": "blank", "detail": "Required."}]
            )
        ticket.subject = subject.strip()
    if description is not None:
        ticket.description = description
    ticket.last_activity_at = timezone.now()
    ticket.save(update_fields=["subject", "description", "last_activity_at", "updated_at"])
    return ticket
