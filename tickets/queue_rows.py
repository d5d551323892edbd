"""The queue's rows as HTML, built here rather than in a template: fifty rows of ten cells are some 2,400 template
nodes, which cost most of the page's time, and even `format_html` spends more on its per-value machinery than on
the row. Every value goes through `text_html` (tickets.html_cells), so the row is safe by construction. The markup is
what static/js/queue.js reads: the row's `data-ticket`, a clock's `data-due` and `data-warn`, the classes. What a
page's rows share (the links' shape, the page's filters) is worked out once per page by `QueueRowWriter`."""

from collections.abc import Callable
from datetime import datetime, tzinfo
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst

from tenancy.models import User
from tenancy.timezones import format_in_timezone
from tickets.html_cells import TYPE_LABELS, priority_badge, status_badge, text_html
from tickets.models import Source, Ticket
from tickets.notices import ticket_link_writer
from tickets.queue import ClockCell, clock_cells, duration_text, epoch_ms


class QueueRowWriter:
    """Writes the rows of one page of the queue for one engineer."""

    def __init__(self, *, viewer: User, filters: QueryDict, now: datetime, zone: tzinfo) -> None:
        self.viewer, self.now, self.zone = viewer, now, zone
        self._ticket_link = ticket_link_writer()
        self._only_organization = _only_organization_writer(filters)

    def row(self, ticket: Ticket) -> SafeString:
        return queue_row_html(
            ticket,
            viewer=self.viewer,
            link=self._ticket_link(ticket.organization.slug, ticket.public_id),
            only_organization=self._only_organization(ticket.organization.slug),
            now=self.now,
            zone=self.zone,
        )


def queue_row_html(
    ticket: Ticket, *, viewer: User, link: str, only_organization: str, now: datetime, zone: tzinfo
) -> SafeString:
    """One open ticket's row: `link` opens it, `only_organization` is the page narrowed to its organization."""
    link = text_html(link)
    organization = text_html(ticket.organization.name)
    cells = clock_cells(ticket, now=now)
    breached = " row-breached" if any(cell.state == "breached" for cell in cells) else ""
    alert = ' <span class="badge">Alert</span>' if ticket.source == Source.MONITORING else ""
    received = ticket.received_at
    row = (
        f'<tr class="queue-row{breached}" data-ticket="{ticket.public_id}">'
        f'<td class="nowrap"><a class="queue-open" href="{link}">{text_html(ticket.reference)}</a></td>'
        f'<td><a href="{text_html(only_organization)}" title="Only {organization}">'
        f'{organization}</a> <span class="org-facts">{_package_badge(getattr(ticket, "package", None))} '
        f'<span class="badge">{text_html(ticket.organization.region)}</span></span></td>'
        f'<td class="queue-subject"><a class="queue-open" href="{link}">{text_html(ticket.subject)}</a>{alert}</td>'
        f"<td>{text_html(TYPE_LABELS.get(ticket.type, ticket.type))}</td>"
        f"<td>{priority_badge(ticket.priority)}</td>"
        f"<td>{status_badge(ticket.status)}</td>"
        f"<td>{_assignee(ticket, viewer=viewer)}</td>"
        f'<td class="nowrap"><time datetime="{timezone.localtime(received).isoformat()}" '
        f'title="Received {text_html(format_in_timezone(received, zone))}" data-since="{epoch_ms(received)}">'
        f"{duration_text((now - received).total_seconds())}</time></td>"
        f"{''.join(_clock(cell, zone) for cell in cells)}</tr>"
    )
    return mark_safe(row)  # noqa: S308 (every value above went through text_html or is a number)


def _only_organization_writer(filters: QueryDict) -> Callable[[str], str]:
    """The page's query string narrowed to one organization (in place of the page's own, if any), without its page
    and its change marker; what comes before and after the organization is encoded once."""
    names = [name for name in filters if name not in ("page", "since")]
    if "organization" not in names:
        names.append("organization")
    at = names.index("organization")
    before, after = (
        urlencode([(name, value) for name in part for value in filters.getlist(name)])
        for part in (names[:at], names[at + 1 :])
    )

    def write(slug: str) -> str:
        return "?" + "&".join(part for part in (before, urlencode({"organization": slug}), after) if part)

    return write


def _package_badge(package: str | None) -> str:
    if not package:
        return '<span class="badge">No contract</span>'
    return f'<span class="badge badge-{text_html(package)}">{text_html(capfirst(package))}</span>'


def _assignee(ticket: Ticket, *, viewer: User) -> str:
    if ticket.assignee is None:
        return '<span class="subtle">Unassigned</span>'
    if ticket.assignee_id == viewer.pk:
        return "<strong>You</strong>"
    return text_html(ticket.assignee.display_name)


def _clock(cell: ClockCell, zone: tzinfo) -> str:
    countdown = f' data-due="{cell.due_ms}" data-warn="{cell.warn_ms}"' if cell.counts_down else ""
    due = (
        f' title="{text_html(cell.label)} due {text_html(format_in_timezone(cell.due_at, zone))}"'
        if cell.due_at
        else ""
    )
    return (
        f'<td class="nowrap"><span class="clock clock-{text_html(cell.state)}"{countdown}{due}>'
        f'<span class="clock-flag">{text_html(cell.flag)}</span> <span class="clock-text">{text_html(cell.text)}</span>'
        "</span></td>"
    )
