from django.db import transaction
from django.utils import timezone

from core.exceptions import ApplicationError, PermissionDeniedError
from tenancy.models import User
from tickets.models import Message, Status, Ticket
from tickets.notices import notify_reply
from tickets.services._common import locked, require_participant
from tickets.services.lifecycle import apply_status_change
from tickets.signals import ticket_replied


@transaction.atomic
def ticket_reply(*, ticket: Ticket, author: User, body: str, internal: bool = False) -> Message:
    """Add a public reply or (staff only) an internal note to the conversation.

    The first public staff reply is the first response. A customer reply on a ticket waiting on them moves it
    back to open; on a resolved ticket it reopens it (within the reopen period). Closed tickets are final.
    """
    require_participant(user=author, organization=ticket.organization)
    by_staff = author.is_walt_staff
    if internal and not by_staff:
        raise PermissionDeniedError("Internal notes are for WALT staff only.")
    if not body.strip():
        raise ApplicationError(
            "The reply is empty.", errors=[{"field": "body", "code": "blank", "detail": "Write a message."}]
        )
    ticket = locked(ticket)
    if ticket.status == Status.CLOSED:
        raise ApplicationError(
            "This ticket is closed. Open a new ticket and mention its reference.",
            errors=[{"field": "ticket", "code": "closed", "detail": f"{ticket.reference} is closed."}],
        )

    now = timezone.now()
    message = Message.objects.create(
        organization_id=ticket.organization_id,
        ticket=ticket,
        author=author,
        body=body,
        internal=internal,
        by_staff=by_staff,
    )
    first_response = by_staff and not internal and ticket.first_responded_at is None
    if first_response:
        ticket.first_responded_at = now
    ticket.last_activity_at = now
    ticket.save(update_fields=["first_responded_at", "last_activity_at", "updated_at"])

    # A staff answer takes a new ticket up; a customer answer brings a waiting or resolved ticket back to open.
    reopens = (Status.NEW,) if by_staff else (Status.WAITING_ON_CUSTOMER, Status.RESOLVED)
    if not internal and ticket.status in reopens:
        apply_status_change(ticket=ticket, actor=author, new_status=Status.OPEN)

    ticket_replied.send(sender=Ticket, ticket=ticket, message=message, first_response=first_response)
    notify_reply(ticket=ticket, message=message)
    return message
