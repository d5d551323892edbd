"""What a breach row says, the same on the page, in the JSON list and in the CSV."""

from datetime import datetime

from reports.models import BreachExclusion
from sla.models import Record


def exclusion_of(record: Record) -> BreachExclusion | None:
    """The breach's exclusion decision, if staff ever made one (loaded with the record by the selectors)."""
    exclusion: BreachExclusion | None = getattr(record.clock, "breach_exclusion", None)
    return exclusion


def is_excluded(record: Record) -> bool:
    exclusion = exclusion_of(record)
    return exclusion is not None and exclusion.excluded


def late_seconds(record: Record, *, now: datetime) -> float:
    """How late the response or resolution came; for a clock still open, how late it is so far."""
    return round(((record.clock.stopped_at or now) - record.due_at).total_seconds(), 3)
