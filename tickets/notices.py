"""The ticket events people expect to hear about, written as notices and handed to the notifications outbox."""

import uuid
from collections.abc import Callable

from django.urls import reverse

from notifications.services import notification_enqueue
from tenancy.models import User
from tenancy.selectors import staff_on_duty_list
from tickets.models import Message, Ticket


def ticket_link(ticket: Ticket) -> str:
    return reverse("ticket-detail", kwargs={"org_slug": ticket.organization.slug, "ticket_id": ticket.public_id})


_SLUG_STAND_IN, _ID_STAND_IN = "organization-slug", uuid.UUID(int=0)


def ticket_link_writer() -> Callable[[str, uuid.UUID], str]:
    """`ticket_link` for a page of tickets, from an organization's slug and a ticket's id: the URL is reversed once,
    with stand-ins that each ticket's values then replace (neither needs quoting in a path)."""
    shape = reverse("ticket-detail", kwargs={"org_slug": _SLUG_STAND_IN, "ticket_id": _ID_STAND_IN})
    head, rest = shape.split(_SLUG_STAND_IN, 1)
    middle, tail = rest.split(str(_ID_STAND_IN), 1)
    return lambda slug, ticket_id: f"{head}{slug}{middle}{ticket_id}{tail}"


def notify_ticket_opened(*, ticket: Ticket) -> None:
    notification_enqueue(
        event_key=f"ticket-opened:{ticket.public_id}",
        recipients=staff_on_duty_list().only("pk", "is_active"),
        subject=f"[{ticket.reference}] New {ticket.priority} {ticket.get_type_display().lower()}: {ticket.subject}",
        body=f"{ticket.organization.name} opened {ticket.reference} ({ticket.priority}, {ticket.get_type_display()}) "
        f"through the {ticket.get_source_display().lower()}.\n\n{ticket.subject}",
        link=ticket_link(ticket),
    )


def notify_reply(*, ticket: Ticket, message: Message) -> None:
    """Staff replies go to the requester; customer replies go to the assignee. Internal notes go nowhere."""
    if message.internal:
        return
    recipients: list[User]
    if message.by_staff:
        recipients = [ticket.requester] if ticket.requester else []
        who = "WALT Labs support"
    else:
        recipients = [ticket.assignee] if ticket.assignee else []
        who = ticket.organization.name
    recipients = [person for person in recipients if person != message.author]
    if not recipients:
        return
    notification_enqueue(
        event_key=f"ticket-reply:{message.public_id}",
        recipients=recipients,
        subject=f"[{ticket.reference}] New reply from {who}: {ticket.subject}",
        body=f"{who} replied on {ticket.reference}:\n\n{message.body}",
        link=ticket_link(ticket),
    )


def notify_video_call_decided(*, ticket: Ticket, accepted: bool, detail: str, event_key: str) -> None:
    verdict = "accepted" if accepted else "declined"
    notification_enqueue(
        event_key=event_key,
        recipients=[ticket.video_call.requested_by],
        subject=f"[{ticket.reference}] Your video call request was {verdict}",
        body=f"WALT Labs support {verdict} the video call on {ticket.reference}. {detail}",
        link=ticket_link(ticket),
    )
