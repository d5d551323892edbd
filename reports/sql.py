"""The SQL the reports need that Django lacks, on PostgreSQL and on SQLite alike, and the settings their queries run
with.

PostgreSQL computes percentiles natively (`percentile_cont`). The embedded SQLite mode gets the same aggregate,
computed the same way, from a small Python aggregate registered on each new SQLite connection, so a percentile is part
of the same query on either database and both give the same figures.
"""

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import NotSupportedError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.models import Aggregate, FloatField, Func
from django.db.models.sql.compiler import SQLCompiler

SQLITE_PERCENTILE = "walt_percentile_cont"
# A year of one organization's clocks, counted by a dozen columns, fits in a hash table of a few megabytes; with
# PostgreSQL's default 4 MB the planner would sort them on disk instead, several times slower. Its JIT compiler, which
# the cost of a year's scan switches on, spends more time compiling than these queries take to run.
REPORT_SETTINGS = {"work_mem": "32MB", "jit": "off"}


@contextmanager
def report_queries() -> Iterator[None]:
    """Run a report's queries in one transaction with REPORT_SETTINGS on PostgreSQL.

    SQLite has neither setting, and the embedded mode begins its transactions IMMEDIATE, which takes the database's
    write lock: a report there runs without one.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            settings = ", ".join("set_config(%s, %s, true)" for _ in REPORT_SETTINGS)
            cursor.execute(f"SELECT {settings}", [item for pair in REPORT_SETTINGS.items() for item in pair])
        yield


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """The continuous percentile, interpolated between the two nearest values exactly as PostgreSQL does it."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


class _SqlitePercentile:
    """SQLite's side of PercentileCont: collects the group's values and interpolates at the end."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value: float | None, fraction: float) -> None:
        self.fraction = fraction
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        return percentile_cont(self.values, self.fraction)


def register_sqlite_functions(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_PERCENTILE, 2, _SqlitePercentile)


def connect_sqlite_functions() -> None:
    connection_created.connect(register_sqlite_functions, dispatch_uid="reports.sqlite_functions")


class PercentileCont(Aggregate):
    """`PercentileCont(expression, 0.95, filter=Q(...))`: the 95th percentile of `expression` over the group."""

    name = "PercentileCont"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile is a fraction between 0 and 1.")
        self.fraction = float(fraction)
        super().__init__(expression, **extra)

    def as_postgresql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> Any:
        template = f"percentile_cont({self.fraction!r}) WITHIN GROUP (ORDER BY %(expressions)s)"
        return self._with(template, compiler, extra)

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> Any:
        return self._with(f"{SQLITE_PERCENTILE}(%(expressions)s, {self.fraction!r})", compiler, extra)

    def _with(self, template: str, compiler: SQLCompiler, extra: dict[str, Any]) -> Any:
        # Aggregate.as_sql wraps `self.template` in its FILTER clause, so the template goes on a copy, not in `extra`.
        clone = self.copy()
        clone.template = template
        return super(PercentileCont, clone).as_sql(compiler, compiler.connection, **extra)


class SecondsBetween(Func):
    """Seconds from `start` to `end` (negative when `end` is earlier), rounded to the millisecond so both databases
    agree on comparisons such as "within 30 minutes"."""

    output_field = FloatField()
    arity = 2

    def __init__(self, start: Any, end: Any) -> None:
        super().__init__(start, end)

    def _operands(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, str, list[Any]]:
        start, end = self.get_source_expressions()
        start_sql, start_params = compiler.compile(start)
        end_sql, end_params = compiler.compile(end)
        return start_sql, end_sql, [*end_params, *start_params]

    def as_postgresql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> Any:
        start, end, params = self._operands(compiler, connection)
        # date_part, unlike EXTRACT, stays in double precision: no numeric arithmetic over a year of clocks.
        return f"(ROUND(DATE_PART('epoch', {end} - {start}) * 1000) / 1000)", params

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> Any:
        start, end, params = self._operands(compiler, connection)
        return f"(ROUND((julianday({end}) - julianday({start})) * 86400000.0) / 1000.0)", params

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> Any:
        raise NotSupportedError(f"SecondsBetween has no SQL for {connection.vendor}.")
