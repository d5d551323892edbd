from typing import Any

from django import template
from django.utils import timezone

from sla.explain import clock_views
from sla.selectors import clock_event_list, clock_list, record_list
from tenancy.models import User
from tenancy.timezones import viewer_timezone
from tickets.models import Ticket

register = template.Library()


@register.inclusion_tag("sla/panel.html", takes_context=True)
def sla_panel(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    """Each clock of the ticket: state, deadline in the viewer's timezone (UTC beside it), time left, and why."""
    request = context["request"]
    user = request.user if isinstance(request.user, User) else None
    zone = viewer_timezone(user=user, organization=ticket.organization)
    is_staff = bool(user and user.is_walt_staff)
    return {
        "clocks": clock_views(
            list(clock_list(ticket=ticket)), list(clock_event_list(ticket=ticket)), zone=zone, now=timezone.now()
        ),
        "records": list(record_list(ticket=ticket)) if is_staff else [],
        "is_staff": is_staff,
    }
