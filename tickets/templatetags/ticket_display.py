from django import template

from tickets.models import Priority, Source, Status, TicketEvent, TicketType, VideoCall

register = template.Library()


def _label(choices: list[tuple[str, str]], value: object) -> str:
    # Old events may name a value that has since left the choices: show it as it was recorded.
    return dict(choices).get(str(value), str(value)) if value else "nobody"


_CHANGES = {
    TicketEvent.Kind.STATUS_CHANGED: ("Status", Status.choices),
    TicketEvent.Kind.PRIORITY_CHANGED: ("Priority", Priority.choices),
    TicketEvent.Kind.TYPE_CHANGED: ("Type", TicketType.choices),
}


@register.filter(name="event_summary")
def event_summary(event: TicketEvent) -> str:
    """One line of the audit trail, from the event's recorded detail."""
    detail = event.detail or {}
    if event.kind in _CHANGES:
        what, choices = _CHANGES[TicketEvent.Kind(event.kind)]
        return f"{what}: {_label(choices, detail.get('from'))} → {_label(choices, detail.get('to'))}"
    match event.kind:
        case TicketEvent.Kind.OPENED:
            return f"Opened through the {_label(Source.choices, detail.get('source')).lower()}"
        case TicketEvent.Kind.ASSIGNED:
            return f"Assignee: {detail.get('from') or 'nobody'} → {detail.get('to') or 'nobody'}"
        case TicketEvent.Kind.VIDEO_CALL:
            return f"Video call {_label(VideoCall.State.choices, detail.get('state')).lower()}"
        case TicketEvent.Kind.CHANGE_PERFORMED:
            scope, description = detail.get("grant_scope", ""), detail.get("description", "")
            return f"Change performed under the access grant “{scope}”: {description}"
        case _:
            return event.get_kind_display()
