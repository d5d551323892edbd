from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet

from tenancy.models import Organization
from tickets.models import Attachment, Message, Ticket, TicketEvent, VideoCall


def ticket_list(
    *,
    organization: Organization,
    status: str | None = None,
    priority: str | None = None,
    ticket_type: str | None = None,
    source: str | None = None,
    text: str | None = None,
) -> QuerySet[Ticket]:
    tickets = Ticket.objects.for_organization(organization).select_related("requester", "assignee")
    if status:
        tickets = tickets.filter(status=status)
    if priority:
        tickets = tickets.filter(priority=priority)
    if ticket_type:
        tickets = tickets.filter(type=ticket_type)
    if source:
        tickets = tickets.filter(source=source)
    if text:
        tickets = tickets.filter(
            Q(subject__icontains=text) | Q(reference__iexact=text) | Q(description__icontains=text)
        )
    return tickets.order_by("-received_at", "-number")


def ticket_get(*, organization: Organization, public_id: UUID) -> Ticket:
    # Raises Ticket.DoesNotExist for unknown and for foreign ids alike; both answer 404.
    return (
        Ticket.objects.for_organization(organization).select_related("requester", "assignee").get(public_id=public_id)
    )


def message_list(*, ticket: Ticket, include_internal: bool) -> QuerySet[Message]:
    """The conversation. Internal notes are returned only when the caller says the viewer is staff."""
    attachments = Attachment.objects.filter(ticket=ticket)
    if not include_internal:
        attachments = attachments.filter(internal=False)
    messages = (
        Message.objects.for_organization(ticket.organization)
        .filter(ticket=ticket)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=attachments.order_by("created_at", "pk")))
    )
    return messages if include_internal else messages.filter(internal=False)


def attachment_list(*, ticket: Ticket, include_internal: bool) -> QuerySet[Attachment]:
    attachments = Attachment.objects.for_organization(ticket.organization).filter(ticket=ticket)
    attachments = attachments.select_related("uploaded_by")
    return attachments if include_internal else attachments.filter(internal=False)


def attachment_get(*, ticket: Ticket, public_id: UUID, include_internal: bool) -> Attachment:
    return attachment_list(ticket=ticket, include_internal=include_internal).get(public_id=public_id)


def ticket_event_list(*, ticket: Ticket) -> QuerySet[TicketEvent]:
    return (
        TicketEvent.objects.for_organization(ticket.organization)
        .filter(ticket=ticket)
        .select_related("actor", "access_grant")
    )


def video_call_for(*, ticket: Ticket) -> VideoCall | None:
    return VideoCall.objects.for_organization(ticket.organization).filter(ticket=ticket).first()
