"""Which timezone a person reads times in, and the one format every page shows them in."""

import zoneinfo
from datetime import UTC, datetime, tzinfo

from tenancy.models import Organization, User


def viewer_timezone(*, user: User | None, organization: Organization | None) -> tzinfo:
    """The user's own timezone if set; else the organization's for customers; UTC for staff and anyone else."""
    name = ""
    if user is not None:
        name = user.timezone or ("" if user.is_walt_staff or organization is None else organization.timezone)
    try:
        return zoneinfo.ZoneInfo(name) if name else UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC  # a zone removed from the tz database since it was saved must not break every page


def format_in_timezone(moment: datetime, zone: tzinfo) -> str:
    """'2026-11-29 10:12 EST (15:12 UTC)': local first, UTC beside it (with its date when the day differs)."""
    utc = moment.astimezone(UTC)
    local = moment.astimezone(zone)
    if local.utcoffset() == utc.utcoffset() and local.tzname() in {"UTC", None}:
        return f"{utc:%Y-%m-%d %H:%M} UTC"
    utc_part = f"{utc:%H:%M}" if utc.date() == local.date() else f"{utc:%Y-%m-%d %H:%M}"
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({utc_part} UTC)"
