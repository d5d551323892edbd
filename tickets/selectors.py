from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import Exists, F, Func, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery

from notifications.selectors import UnreadBell, notification_bell_ids, notification_unread_list
from tenancy.models import Organization, User
from tenancy.selectors import access_grant_active_list, package_in_force
from tickets.json_rows import json_rows, moment, nested
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


@dataclass(frozen=True)
class TicketPage:
    """A ticket with everything its page shows that is not a conversation or an SLA clock (`ticket_page_get`)."""

    ticket: Ticket  # with its requester and assignee
    video_call: VideoCall | None  # with who requested it
    package: str | None  # of the organization's contract in force
    unread_notifications: UnreadBell  # the viewer's, for the header's bell
    files: list[Attachment]  # every file the viewer may see, oldest first; `message_id` tells which reply has it
    events: list[TicketEvent]  # the audit trail, oldest first
    grants_in_force: bool  # whether the organization has an access grant in force that a change can be recorded under


def ticket_page_get(
    *, organization: Organization, public_id: UUID, viewer: User, include_internal: bool, at: datetime
) -> TicketPage:
    """The ticket page's one-row read: the ticket, its people and video call, and, in the same row, the package in
    force, the viewer's unread count, its files and its audit trail (as JSON arrays) and whether a grant is in force.

    Raises Ticket.DoesNotExist for unknown and for foreign ids alike; both answer 404. The files and events are built
    from the row's JSON: they carry what the page shows (their uploader and actor with a name and an e-mail only).
    """
    files = Attachment.objects.for_organization(organization).filter(ticket=OuterRef("pk"))
    if not include_internal:
        files = files.filter(internal=False)
    events = TicketEvent.objects.for_organization(organization).filter(ticket=OuterRef("pk"))
    # COUNT as a plain function: the subquery stays one row without a GROUP BY (as tickets.queue counts).
    unread = (
        notification_unread_list(user=viewer)
        .filter(pk__in=notification_bell_ids(user=viewer))
        .order_by()
        .values(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
    )
    ticket = (
        Ticket.objects.for_organization(organization)
        .select_related("requester", "assignee", "video_call", "video_call__requested_by")
        .annotate(
            package=package_in_force(organization=OuterRef("organization"), at=at),
            unread_notifications=Subquery(unread),
            file_rows=json_rows(
                files,
                id="id",
                public_id="public_id",
                message_id="message_id",
                filename="filename",
                size="size",
                internal="internal",
                created_at="created_at",
                uploader_name="uploaded_by__full_name",
                uploader_email="uploaded_by__email",
            ),
            event_rows=json_rows(
                events,
                id="id",
                created_at="created_at",
                kind="kind",
                detail="detail",
                actor_name="actor__full_name",
                actor_email="actor__email",
            ),
            grants_in_force=Exists(access_grant_active_list(organization=organization, at=at)),
        )
        .get(public_id=public_id)
    )
    return TicketPage(
        ticket=ticket,
        video_call=getattr(ticket, "video_call", None),  # the reverse one-to-one raises when there is none
        package=ticket.package,
        unread_notifications=UnreadBell(ticket.unread_notifications),
        files=sorted((_file(row) for row in ticket.file_rows or []), key=lambda file: (file.created_at, file.pk)),
        events=sorted((_event(row) for row in ticket.event_rows or []), key=lambda event: (event.created_at, event.pk)),
        grants_in_force=ticket.grants_in_force,
    )


def _person(name: str | None, email: str | None) -> User | None:
    return None if email is None else User(full_name=name or "", email=email)


def _file(row: dict[str, Any]) -> Attachment:
    return Attachment(
        pk=row["id"],
        public_id=UUID(row["public_id"]),
        message_id=row["message_id"],
        filename=row["filename"],
        size=row["size"],
        internal=bool(row["internal"]),
        created_at=moment(row["created_at"]),
        uploaded_by=_person(row["uploader_name"], row["uploader_email"]),
    )


def _event(row: dict[str, Any]) -> TicketEvent:
    return TicketEvent(
        pk=row["id"],
        created_at=moment(row["created_at"]),
        kind=row["kind"],
        detail=nested(row["detail"]),
        actor=_person(row["actor_name"], row["actor_email"]),
    )


def conversation_list(*, ticket: Ticket, include_internal: bool) -> QuerySet[Message]:
    """The conversation without its files (`TicketPage.files` has them). Internal notes only for staff viewers."""
    messages = Message.objects.for_organization(ticket.organization).filter(ticket=ticket).select_related("author")
    return messages if include_internal else messages.filter(internal=False)
