"""Rows for PostgreSQL's COPY (text format), built column by column from the Django models.

A table lists the fields the seed writes, in row order. Every other NOT NULL column must have a constant Django
default, which is appended to each row; a column that has neither fails loudly, so a model that grows a field breaks
the seed at once instead of inserting nonsense.
"""

import io
import json
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Field, Model

from bench.copytext import NULL, escape

COPY_READ_SIZE = 4 * 1024 * 1024
_AUTO_FIELDS = {"AutoField", "BigAutoField", "SmallAutoField"}


class SeedSchemaError(RuntimeError):
    pass


def literal(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return escape(json.dumps(value))
    return escape(str(value))


def _constant_default(field: Field[Any, Any]) -> str:
    default = field.get_default()
    if callable(field.default) and not isinstance(default, dict | list):
        raise SeedSchemaError(
            f"{field.model._meta.label}.{field.name} has a per-row default ({field.default!r}) the seed does not "
            "write: add it to bench/seed.py."
        )
    return literal(default)


class CopyTable:
    """A growing COPY buffer for one table."""

    def __init__(self, model: type[Model], fields: list[str]) -> None:
        meta = model._meta
        self.model = model
        self.table: str = meta.db_table
        written = [meta.get_field(name) for name in fields]
        self.columns = [field.column for field in written if isinstance(field, Field)]
        names = {field.name for field in written}
        extra: list[tuple[str, str]] = []
        for field in meta.concrete_fields:
            if field.name in names or field.null or field.get_internal_type() in _AUTO_FIELDS:
                continue  # written, or left NULL, or numbered by the database
            if not field.has_default():
                raise SeedSchemaError(
                    f"{meta.label}.{field.name} is NOT NULL without a default and the seed does not write it: "
                    "add it to bench/seed.py."
                )
            extra.append((field.column, _constant_default(field)))
        self.columns += [column for column, _ in extra]
        self._suffix = "".join(f"\t{value}" for _, value in extra) + "\n"
        self._width = len(fields)
        self.buffer = io.StringIO()
        self.rows = 0

    def add(self, *values: str) -> None:
        assert len(values) == self._width, (self.table, len(values), self._width)
        self.buffer.write("\t".join(values))
        self.buffer.write(self._suffix)
        self.rows += 1

    def take(self) -> tuple[io.StringIO, int]:
        """The rows buffered so far (and how many), leaving an empty buffer."""
        taken = (self.buffer, self.rows)
        self.buffer, self.rows = io.StringIO(), 0
        return taken

    def copy(self, cursor: Any, buffer: io.StringIO) -> None:
        buffer.seek(0)
        columns = ", ".join(connection.ops.quote_name(column) for column in self.columns)
        # Large reads: the generating thread holds the GIL most of the time, and each read has to wait for it.
        cursor.copy_expert(
            f"COPY {connection.ops.quote_name(self.table)} ({columns}) FROM STDIN", buffer, size=COPY_READ_SIZE
        )
