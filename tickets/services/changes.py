from django.db import transaction
from django.utils import timezone

from core.exceptions import ApplicationError
from tenancy.models import AccessGrant, User
from tickets.entitlements import GUIDANCE_ONLY_EXPLANATION, may_record_changes
from tickets.models import Status, Ticket, TicketEvent
from tickets.services._common import locked, package_now, record_event, require_staff


@transaction.atomic
def ticket_change_record(*, ticket: Ticket, actor: User, access_grant: AccessGrant, description: str) -> TicketEvent:
    """Record that a WALT engineer changed the customer's environment. Premium only, under a grant in force now;
    the record names the grant and stays in the ticket's audit trail."""
    require_staff(user=actor, action="record changes performed")
    if not may_record_changes(package=package_now(organization=ticket.organization)):
        raise ApplicationError(GUIDANCE_ONLY_EXPLANATION, status_code=403)
    now = timezone.now()
    if access_grant.organization_id != ticket.organization_id:
        raise ApplicationError(
            "No such access grant.",
            errors=[{"field": "access_grant", "code": "does_not_exist", "detail": "Not a grant of this organization."}],
        )
    if not access_grant.is_active_at(now):
        raise ApplicationError(
            "This access grant is not in force now (revoked, expired or not yet valid).",
            errors=[{"field": "access_grant", "code": "inactive", "detail": "Ask the customer for a current grant."}],
        )
    if not description.strip():
        raise ApplicationError(
            "Describe the change.", errors=[{"field": "description", "code": "blank", "detail": "Required."}]
        )
    ticket = locked(ticket)
    if ticket.status == Status.CLOSED:
        raise ApplicationError(
            "Closed tickets are final.", errors=[{"field": "ticket", "code": "closed", "detail": "Closed."}]
        )
    ticket.last_activity_at = now
    ticket.save(update_fields=["last_activity_at", "updated_at"])
    return record_event(
        ticket=ticket,
        actor=actor,
        kind=TicketEvent.Kind.CHANGE_PERFORMED,
        detail={"description": description.strip(), "grant_scope": access_grant.scope},
        access_grant=access_grant,
    )
