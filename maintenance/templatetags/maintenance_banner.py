from dataclasses import dataclass
from typing import Any

from django import template
from django.utils import timezone

from maintenance.models import Notice
from maintenance.selectors import notice_banner_list
from tenancy.models import Organization, User
from tenancy.timezones import format_in_timezone, viewer_timezone

register = template.Library()


@dataclass(frozen=True)
class Banner:
    notice: Notice
    organization: Organization
    starts: str
    ends: str


@register.inclusion_tag("maintenance/_banner.html", takes_context=True)
def maintenance_banner(context: template.Context) -> dict[str, Any]:
    """Customers' banners for notices inside their lead time: the organization in the URL, else all of theirs."""
    request: Any = context.get("request")
    user = getattr(request, "user", None)
    if not isinstance(user, User) or user.is_walt_staff:
        return {"banners": []}
    organization = getattr(request, "organization", None)
    organizations = (
        [organization] if isinstance(organization, Organization) else (context.get("nav_organizations") or [])
    )
    now = timezone.now()
    banners: dict[int, Banner] = {}
    for each in organizations:
        zone = viewer_timezone(user=user, organization=each)
        for notice in notice_banner_list(organization=each, user=user, at=now):
            banners.setdefault(
                notice.pk,
                Banner(
                    notice, each, format_in_timezone(notice.starts_at, zone), format_in_timezone(notice.ends_at, zone)
                ),
            )
    return {"banners": list(banners.values()), "csrf_token": context.get("csrf_token"), "next": request.get_full_path()}
