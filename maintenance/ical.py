"""The iCalendar feed an organization subscribes to: its maintenance windows for the coming weeks."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event, vDuration

from maintenance.models import Notice
from maintenance.selectors import maintenance_windows_overlapping, notice_list_for
from tenancy.models import Organization

FEED_PAST = timedelta(days=1)  # yesterday's window stays visible for a day in calendars that refresh slowly
FEED_AHEAD = timedelta(days=60)
# How often calendar apps that honour it should fetch the feed again.
REFRESH_INTERVAL = timedelta(hours=1)


def calendar_ics(*, organization: Organization, now: datetime, portal_url: str) -> bytes:
    """VEVENTs for the organization's windows from a day ago to 60 days ahead (cancelled ones left out), in UTC,
    each with a UID that stays the same for its occurrence."""
    notices: dict[str, list[Notice]] = defaultdict(list)
    for notice in notice_list_for(organization=organization, now=now - FEED_PAST):
        notices[notice.occurrence_key].append(notice)
    calendar = Calendar()
    calendar.add("prodid", "-//WALT Labs//Support Portal maintenance windows//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"WALT Labs maintenance · {organization.name}")
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    stamp = now.astimezone(UTC)
    for occurrence in maintenance_windows_overlapping(
        organization=organization, start=now - FEED_PAST, end=now + FEED_AHEAD
    ):
        event = Event()
        event.add("uid", occurrence.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", occurrence.starts_at.astimezone(UTC))
        event.add("dtend", occurrence.ends_at.astimezone(UTC))
        event.add("summary", f"WALT Labs maintenance: {occurrence.title}")
        scope = f"all {occurrence.region} customers" if occurrence.region else organization.name
        lines = [f"Maintenance window for {scope}."]
        lines += [f"Notice: {notice.title}" for notice in notices.get(occurrence.key, [])]
        lines.append(f"Details: {portal_url}")
        event.add("description", "\n".join(lines))
        event.add("url", portal_url)
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
