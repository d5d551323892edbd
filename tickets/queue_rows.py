"""The queue's rows as HTML, built here rather than in a template: fifty rows of ten cells are some 2,400 template
nodes, which cost most of the page's time, and even `format_html` spends more on its per-value machinery than on
the row. Every value goes through `_text` (the standard library's escaping of & < > " ', as Django's templates
escape them), so the row is safe by construction. The markup is what static/js/queue.js reads: the row's
`data-ticket`, a clock's `data-due` and `data-warn`, the classes."""

from datetime import datetime, tzinfo
from html import escape

from django.http import QueryDict
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst

from tenancy.models import User
from tenancy.timezones import format_in_timezone
from tickets.models import Source, Ticket
from tickets.notices import ticket_link
from tickets.queue import ClockCell, clock_cells, duration_text, epoch_ms


def _text(value: object) -> str:
    return escape(str(value))


def queue_row_html(ticket: Ticket, *, viewer: User, filters: QueryDict, now: datetime, zone: tzinfo) -> SafeString:
    """One open ticket's row; `filters` are the page's, which the organization's link narrows to it."""
    link = _text(ticket_link(ticket))
    organization = _text(ticket.organization.name)
    cells = clock_cells(ticket, now=now)
    breached = " row-breached" if any(cell.state == "breached" for cell in cells) else ""
    alert = ' <span class="badge">Alert</span>' if ticket.source == Source.MONITORING else ""
    received = ticket.received_at
    row = (
        f'<tr class="queue-row{breached}" data-ticket="{ticket.public_id}">'
        f'<td class="nowrap"><a class="queue-open" href="{link}">{_text(ticket.reference)}</a></td>'
        f'<td><a href="{_text(_only_organization(filters, ticket.organization.slug))}" title="Only {organization}">'
        f'{organization}</a> <span class="org-facts">{_package_badge(getattr(ticket, "package", None))} '
        f'<span class="badge">{_text(ticket.organization.region)}</span></span></td>'
        f'<td class="queue-subject"><a class="queue-open" href="{link}">{_text(ticket.subject)}</a>{alert}</td>'
        f"<td>{_text(ticket.get_type_display())}</td>"
        f'<td><span class="badge badge-{_text(ticket.priority.lower())}" '
        f'title="{_text(ticket.get_priority_display())}">{_text(ticket.priority)}</span></td>'
        f'<td><span class="badge status-{_text(ticket.status)}">{_text(ticket.get_status_display())}</span></td>'
        f"<td>{_assignee(ticket, viewer=viewer)}</td>"
        f'<td class="nowrap"><time datetime="{timezone.localtime(received).isoformat()}" '
        f'title="Received {_text(format_in_timezone(received, zone))}" data-since="{epoch_ms(received)}">'
        f"{duration_text((now - received).total_seconds())}</time></td>"
        f"{''.join(_clock(cell, zone) for cell in cells)}</tr>"
    )
    return mark_safe(row)  # noqa: S308 (every value above went through _text or is a number)


def _only_organization(filters: QueryDict, slug: str) -> str:
    narrowed = filters.copy()
    for name in ("page", "since"):
        narrowed.pop(name, None)
    narrowed["organization"] = slug
    return f"?{narrowed.urlencode()}"


def _package_badge(package: str | None) -> str:
    if not package:
        return '<span class="badge">No contract</span>'
    return f'<span class="badge badge-{_text(package)}">{_text(capfirst(package))}</span>'


def _assignee(ticket: Ticket, *, viewer: User) -> str:
    if ticket.assignee is None:
        return '<span class="subtle">Unassigned</span>'
    if ticket.assignee_id == viewer.pk:
        return "<strong>You</strong>"
    return _text(ticket.assignee.display_name)


def _clock(cell: ClockCell, zone: tzinfo) -> str:
    countdown = f' data-due="{cell.due_ms}" data-warn="{cell.warn_ms}"' if cell.counts_down else ""
    due = f' title="{_text(cell.label)} due {_text(format_in_timezone(cell.due_at, zone))}"' if cell.due_at else ""
    return (
        f'<td class="nowrap"><span class="clock clock-{_text(cell.state)}"{countdown}{due}>'
        f'<span class="clock-flag">{_text(cell.flag)}</span> <span class="clock-text">{_text(cell.text)}</span>'
        "</span></td>"
    )
