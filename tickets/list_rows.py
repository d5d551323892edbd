"""The rows of an organization's ticket list as HTML, built as the queue's are (tickets.queue_rows): in Python, each
value escaped by `text_html`, so the row is safe by construction."""

from collections.abc import Callable, Iterable
from datetime import tzinfo
from uuid import UUID

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from tenancy.timezones import format_in_timezone
from tickets.html_cells import SOURCE_LABELS, TYPE_LABELS, priority_badge, status_badge, text_html
from tickets.models import Ticket

_GUIDANCE_ONLY = ' <span class="badge badge-guidance">Guidance only</span>'


def ticket_list_rows_html(
    tickets: Iterable[Ticket], *, slug: str, link: Callable[[str, UUID], str], zone: tzinfo
) -> list[SafeString]:
    """The rows of one page: `link` writes a ticket's URL from the organization's slug and the ticket's id; times
    are written in `zone`, UTC beside them."""
    return [ticket_list_row_html(ticket, link=link(slug, ticket.public_id), zone=zone) for ticket in tickets]


def ticket_list_row_html(ticket: Ticket, *, link: str, zone: tzinfo) -> SafeString:
    link = text_html(link)
    by = ticket.requester.display_name if ticket.requester else SOURCE_LABELS.get(ticket.source, ticket.source)
    received = ticket.received_at
    row = (
        "<tr>"
        f'<td class="nowrap"><a href="{link}">{text_html(ticket.reference)}</a></td>'
        f'<td><a href="{link}">{text_html(ticket.subject)}</a>{_GUIDANCE_ONLY if ticket.guidance_only else ""}</td>'
        f"<td>{text_html(TYPE_LABELS.get(ticket.type, ticket.type))}</td>"
        f"<td>{priority_badge(ticket.priority)}</td>"
        f"<td>{status_badge(ticket.status)}</td>"
        f"<td>{text_html(by)}</td>"
        f'<td class="nowrap"><time datetime="{timezone.localtime(received).isoformat()}">'
        f"{text_html(format_in_timezone(received, zone))}</time></td>"
        "</tr>"
    )
    return mark_safe(row)  # noqa: S308 (every value above went through text_html)
