from typing import Any

from django import template
from django.utils import timezone

from sla.explain import clock_views
from sla.models import Clock, ClockEvent, Record
from sla.selectors import clock_panel_event_list
from tenancy.models import User
from tenancy.timezones import viewer_timezone
from tickets.models import Ticket

register = template.Library()


@register.inclusion_tag("sla/panel.html", takes_context=True)
def sla_panel(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    """Each clock of the ticket: state, deadline in the viewer's timezone (UTC beside it), time left, and why; for
    staff, the warnings and breaches recorded. One query."""
    request = context["request"]
    user = request.user if isinstance(request.user, User) else None
    zone = viewer_timezone(user=user, organization=ticket.organization)
    is_staff = bool(user and user.is_walt_staff)
    events = list(clock_panel_event_list(ticket=ticket, with_records=is_staff))
    clocks: dict[int, Clock] = {event.clock_id: event.clock for event in events}
    return {
        "clocks": clock_views(list(clocks.values()), events, zone=zone, now=timezone.now()),
        "records": _records(events) if is_staff else [],
        "is_staff": is_staff,
    }


def _records(events: list[ClockEvent]) -> list[Record]:
    """The records joined to the events (each clock's once per event), once each, in the order they were made. An
    event whose clock has no such record has no attribute for it."""
    records = {
        record.pk: record
        for event in events
        for record in (getattr(event, "warning_record", None), getattr(event, "breach_record", None))
        if record is not None
    }
    return sorted(records.values(), key=lambda record: (record.recorded_at, record.pk))
