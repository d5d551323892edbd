"""CSV exports, streamed row by row: a year of breaches never sits in memory at once.

A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return) as a formula, so such text is
written with a leading apostrophe; numbers are written as numbers.
"""

import csv
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from django.http import StreamingHttpResponse
from django.urls import reverse

from reports.breaches import exclusion_of, is_excluded, late_seconds
from reports.periods import ReportPeriod
from sla.models import Record
from tenancy.models import Organization

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BREACH_COLUMNS = [
    "reference",
    "link",
    "subject",
    "priority",
    "type",
    "clock",
    "epoch",
    "started_at",
    "deadline",
    "stopped_at",
    "late_seconds",
    "still_open",
    "target_seconds",
    "policy_version",
    "excluded",
    "exclusion_category",
    "exclusion_reason",
    "exclusion_decided_at",
]
BATCH = 2000


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Line:
    """A file-like object that hands back what csv.writer writes, one line at a time."""

    def write(self, value: str) -> str:
        return value


def csv_rows(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    writer = csv.writer(_Line())
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])


def streamed_csv(rows: Iterable[Iterable[Any]], *, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_rows(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else ""


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """A JSON document as (dotted path, scalar) pairs: `first_response.share_met`, `history.0.month`…"""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from flatten(item, f"{prefix}.{index}" if prefix else str(index))
    else:
        yield prefix, "" if value is None else value


def report_csv_rows(document: dict[str, Any]) -> Iterator[list[Any]]:
    """The report's JSON document, one figure per row, named by its path in the JSON."""
    yield ["figure", "value"]
    for name, value in flatten(document):
        yield [name, value]


def breach_link_prefix(*, organization: Organization, absolute: str) -> str:
    """The ticket-page URL before the ticket's id, made once for every row."""
    marker = "00000000-0000-0000-0000-000000000000"
    path = reverse("ticket-detail", kwargs={"org_slug": organization.slug, "ticket_id": marker})
    return absolute.rstrip("/") + path.removesuffix(f"{marker}/")


def breach_csv_rows(records: Iterable[Record], *, link_prefix: str, now: datetime) -> Iterator[list[Any]]:
    yield BREACH_COLUMNS
    for record in records:
        ticket, clock = record.ticket, record.clock
        exclusion = exclusion_of(record) if is_excluded(record) else None
        yield [
            ticket.reference,
            f"{link_prefix}{ticket.public_id}/",
            ticket.subject,
            ticket.priority,
            ticket.type,
            record.clock_kind,
            record.epoch,
            utc(clock.started_at),
            utc(record.due_at),
            utc(clock.stopped_at),
            late_seconds(record, now=now),
            "no" if clock.stopped_at else "yes",
            clock.target_seconds,
            clock.policy_version,
            "yes" if exclusion else "no",
            exclusion.category if exclusion else "",
            exclusion.reason if exclusion else "",
            utc(exclusion.decided_at) if exclusion else "",
        ]


def report_filename(organization: Organization, period: ReportPeriod, what: str) -> str:
    return f"{organization.slug}-sla-{what}-{period.slug}.csv"
