"""Escaped HTML for the cells that the ticket lists' rows share. The lists build their rows in Python rather than in
templates (fifty rows of template nodes cost most of a page's time); every value goes through `text_html`, the
standard library's escaping of & < > " ', as Django's templates escape them."""

from html import escape

from tickets.models import Priority, Source, Status, TicketType

# Labels looked up once: a model's get_<field>_display builds its choices' dict again on every call.
TYPE_LABELS = dict(TicketType.choices)
PRIORITY_LABELS = dict(Priority.choices)
STATUS_LABELS = dict(Status.choices)
SOURCE_LABELS = dict(Source.choices)


def text_html(value: object) -> str:
    return escape(str(value))


def priority_badge(priority: str) -> str:
    """As tickets/_priority.html writes it."""
    label = PRIORITY_LABELS.get(priority, priority)
    return (
        f'<span class="badge badge-{text_html(priority.lower())}" title="{text_html(label)}">'
        f"{text_html(priority)}</span>"
    )


def status_badge(status: str) -> str:
    """As tickets/_status.html writes it."""
    return f'<span class="badge status-{text_html(status)}">{text_html(STATUS_LABELS.get(status, status))}</span>'
