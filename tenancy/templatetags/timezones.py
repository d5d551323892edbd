from datetime import datetime

from django import template
from django.http import HttpRequest

from tenancy.models import Organization, User
from tenancy.timezones import format_in_timezone, viewer_timezone

register = template.Library()


@register.filter(name="viewer_time")
def viewer_time(moment: datetime | None, request: HttpRequest) -> str:
    """`{{ ticket.received_at|viewer_time:request }}`: in the viewer's timezone, with UTC beside it."""
    if moment is None:
        return ""
    user = getattr(request, "user", None)
    organization = getattr(request, "organization", None)
    zone = viewer_timezone(
        user=user if isinstance(user, User) else None,
        organization=organization if isinstance(organization, Organization) else None,
    )
    return format_in_timezone(moment, zone)
