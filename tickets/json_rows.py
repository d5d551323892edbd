"""A short list of child rows read inside its parent's row, as one JSON array: one query instead of two.

Portable between PostgreSQL and SQLite (DESIGN.md: the embedded mode is part of the product). The values come back as
JSON does: datetimes and UUIDs as text, booleans as 0/1 on SQLite, and a JSON column as nested JSON on PostgreSQL but
as its text on SQLite; `moment` and `nested` read them back the same on both.
"""

import json
from datetime import UTC, datetime
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Func, JSONField, QuerySet, Subquery
from django.db.models.functions import JSONObject
from django.db.models.sql.compiler import SQLCompiler


class _JSONArrayOf(Func):
    """Every row's value in one JSON array (NULL when there is no row). A plain function rather than an Aggregate,
    so that the subquery has no GROUP BY and answers in one row, as `tickets.queue` counts."""

    function = "JSONB_AGG"
    output_field = JSONField()

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        sql, params = super().as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra_context)
        return sql, list(params)


def json_rows(rows: QuerySet[Any], **fields: Any) -> Subquery:
    """`rows` (filtered on an OuterRef to the parent) as one JSON array of objects with `fields` (expressions or
    field names); NULL when there is none. The order of the array is not defined: sort after reading."""
    return Subquery(rows.order_by().values(array=_JSONArrayOf(JSONObject(**fields))), output_field=JSONField())


def moment(value: str) -> datetime:
    """A datetime as JSON carries it: ISO 8601 with its offset on PostgreSQL, naive UTC text on SQLite."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def nested(value: Any) -> Any:
    """A JSON column's value: already decoded on PostgreSQL, still its text on SQLite."""
    return json.loads(value) if isinstance(value, str) else value
