"""The SLA sweep, called in the bench process as the Celery task would call it, at the seed moment T0.

`sla_sweep_idle` times sweeps that find nothing due (the seed has no running clock due or warned at T0).
`sla_sweep_10k_due` moves the deadlines of N running clocks (10,000 by default) to just before T0, as if they had
all fallen due at once, and times the one sweep that must record every breach and its notices; it then checks the
rows it wrote. Their warning points are moved too and recorded as already warned (with their warning records), so
the sweep records exactly N breaches and no warnings.
"""

import time
from datetime import datetime
from typing import Any

import redis
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bench.procinfo import cpu_seconds
from bench.scenarios.queries import QueryCounter, explain
from bench.state import SUMMARIES_FROM_CLOCKS, mark_dirty
from bench.stats import summarize
from notifications.models import OutboxMessage
from sla.models import Clock, ClockEvent, ClockState, Record
from sla.services import sla_sweep
from tenancy.selectors import staff_on_duty_list, support_admin_list

_MOVE_DEADLINES = """
UPDATE sla_clock c SET
    due_at = %(t0)s - make_interval(secs => 1 + (c.id %% 600)),
    warn_at = %(t0)s - make_interval(secs => 1 + (c.id %% 600)
                                      + (1 - (c.policy ->> 'warning_threshold')::float) * c.target_seconds),
    warned_at = %(t0)s - make_interval(secs => (c.id %% 600)
                                        + (1 - (c.policy ->> 'warning_threshold')::float) * c.target_seconds)
FROM bench_dirty_clock d WHERE d.clock_id = c.id
"""
_WARNING_RECORDS = """
INSERT INTO sla_record (created_at, updated_at, organization_id, clock_id, ticket_id, kind, clock_kind, epoch,
                        due_at, recorded_at, detected_by)
SELECT c.warned_at, c.warned_at, c.organization_id, c.id, c.ticket_id, 'warning', c.kind, c.epoch,
       c.warn_at, c.warned_at, 'sweep'
FROM sla_clock c JOIN bench_dirty_clock d ON d.clock_id = c.id
"""
_WARNING_EVENTS = """
INSERT INTO sla_clockevent (created_at, updated_at, organization_id, clock_id, kind, at, due_at, detail)
SELECT c.warned_at, c.warned_at, c.organization_id, c.id, 'warned', c.warned_at, c.due_at, '{}'::jsonb
FROM sla_clock c JOIN bench_dirty_clock d ON d.clock_id = c.id
"""


class CpuMeter:
    """CPU used by this process and by its PostgreSQL backend (on this machine) while the block runs."""

    def __enter__(self) -> "CpuMeter":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            row = cursor.fetchone()
        self.backend = int(row[0]) if row else 0
        self.process_start, self.backend_start = time.process_time(), cpu_seconds(self.backend) or 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.process = time.process_time() - self.process_start
        self.database = (cpu_seconds(self.backend) or 0.0) - self.backend_start

    def per(self, count: int) -> dict[str, float]:
        count = max(count, 1)
        return {
            "bench_process_ms": round(1000 * self.process / count, 3),
            "database_ms": round(1000 * self.database / count, 3),
            "total_ms": round(1000 * (self.process + self.database) / count, 3),
        }


def _due_now(t0: datetime) -> int:
    return Clock.objects.filter(state=ClockState.RUNNING, due_at__lte=t0).count() + (
        Clock.objects.filter(state=ClockState.RUNNING, warned_at__isnull=True, warn_at__lte=t0).count()
    )


def sweep_idle(*, t0: datetime, repeats: int) -> dict[str, Any]:
    due = _due_now(t0)
    if due:
        return {"error": f"{due} clocks are due or warned at T0: the seed is not idle (run with --reseed)"}
    sla_sweep(now=t0)  # warm the connection and the caches
    with CaptureQueriesContext(connection) as captured:
        sla_sweep(now=t0)
    timings = []
    found = 0
    with CpuMeter() as cpu:
        for _ in range(repeats):
            started = time.perf_counter()
            result = sla_sweep(now=t0)
            timings.append(time.perf_counter() - started)
            found += result.warnings + result.breaches
    select = [query["sql"] for query in captured.captured_queries if query["sql"].lstrip().upper().startswith("SELECT")]
    return {
        "repeats": repeats,
        "latency": summarize(timings),
        "cpu_per_sweep": cpu.per(repeats),
        "queries_per_sweep": len(captured.captured_queries),
        "sql": [query["sql"][:200] for query in captured.captured_queries],
        "recorded": found,
        "running_clocks": Clock.objects.filter(state=ClockState.RUNNING).count(),
        "plans": explain(select),
    }


def _expected_notices(clock_ids: list[int]) -> int:
    on_duty = {user.pk for user in staff_on_duty_list()}
    admins = {user.pk for user in support_admin_list()}
    channels = len(OutboxMessage.Channel.values)
    assignees = Clock.objects.filter(pk__in=clock_ids).values_list("ticket__assignee_id", flat=True)
    return sum(len(({assignee} if assignee else on_duty) | admins) * channels for assignee in assignees)


def _queue_lengths(redis_url: str) -> dict[str, int]:
    client = redis.Redis.from_url(redis_url)
    try:
        return {queue: int(client.llen(queue)) for queue in ("notifications", "default", "sla")}
    finally:
        client.close()


def sweep_due(*, t0: datetime, due: int, redis_url: str) -> dict[str, Any]:
    with transaction.atomic(), connection.cursor() as cursor:
        mark_dirty("SELECT id FROM sla_clock WHERE state = 'running' ORDER BY random() LIMIT %s", [due])
        cursor.execute("SELECT clock_id FROM bench_dirty_clock")
        clock_ids = [int(row[0]) for row in cursor.fetchall()]
        cursor.execute(_MOVE_DEADLINES, {"t0": t0})
        cursor.execute(_WARNING_RECORDS)
        cursor.execute(_WARNING_EVENTS)
        cursor.execute(SUMMARIES_FROM_CLOCKS)  # the ticket summaries follow their clocks
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sla_clock")
    running = Clock.objects.filter(state=ClockState.RUNNING).count()
    expected_notices = _expected_notices(clock_ids)
    before = {
        "breaches": Record.objects.filter(kind=Record.Kind.BREACH).count(),
        "warnings": Record.objects.filter(kind=Record.Kind.WARNING).count(),
        "events": ClockEvent.objects.count(),
        "outbox": OutboxMessage.objects.count(),
    }
    queues_before = _queue_lengths(redis_url)
    counter = QueryCounter()
    with connection.execute_wrapper(counter), CpuMeter() as cpu:
        started = time.perf_counter()
        result = sla_sweep(now=t0)
        elapsed = time.perf_counter() - started
    created = {
        "breach_records": Record.objects.filter(kind=Record.Kind.BREACH).count() - before["breaches"],
        "warning_records": Record.objects.filter(kind=Record.Kind.WARNING).count() - before["warnings"],
        "clock_events": ClockEvent.objects.count() - before["events"],
        "outbox_messages": OutboxMessage.objects.count() - before["outbox"],
    }
    queues = _queue_lengths(redis_url)
    still_running = Clock.objects.filter(pk__in=clock_ids, state=ClockState.RUNNING).count()
    checks = {
        "breaches_reported": result.breaches == len(clock_ids),
        "no_warnings_reported": result.warnings == 0,
        "breach_records_created": created["breach_records"] == len(clock_ids),
        "outbox_messages_created": created["outbox_messages"] == expected_notices,
        "no_due_clock_left_running": still_running == 0,
    }
    return {
        "due_clocks": len(clock_ids),
        "running_clocks": running,
        "seconds": round(elapsed, 3),
        "breaches_per_s": round(len(clock_ids) / elapsed, 1) if elapsed else None,
        "cpu": {
            "bench_process_s": round(cpu.process, 2),
            "database_s": round(cpu.database, 2),
            "per_breach": cpu.per(len(clock_ids)),
        },
        "queries": counter.count,
        "queries_per_breach": round(counter.count / max(len(clock_ids), 1), 2),
        "result": {"warnings": result.warnings, "breaches": result.breaches},
        "created": created,
        "expected_outbox_messages": expected_notices,
        "celery_wakeups_published": {queue: queues[queue] - queues_before[queue] for queue in queues},
        "checks": checks,
        "verified": all(checks.values()),
    }
