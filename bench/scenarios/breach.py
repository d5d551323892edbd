"""From a deadline to its breach record, with a real Celery worker and beat on the default schedule.

A real beat cannot be given another "now", so for this scenario the seed is brought to the present: every running
clock's deadline and warning point move forward by the time since the seed moment (plus a margin), which keeps the
seed's promise that nothing is due. Then, with worker and beat running, N random running clocks get deadlines a few
seconds ahead (their warnings already recorded, so only breaches are due), and the bench waits for the sweeps to record
them. The figure is each record's `recorded_at` minus its `due_at`. Every clock touched is put back afterwards with the
rest of the seed (bench.state).
"""

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from bench.state import SUMMARIES_FROM_CLOCKS, mark_dirty
from bench.stats import summarize
from bench.workers import beat, worker
from sla.models import Record

AHEAD_SECONDS = (3, 10)  # deadlines spread over this many seconds from now
MARGIN = timedelta(minutes=10)
WAIT_AFTER_LAST_DEADLINE = 60.0
POLL_SECONDS = 0.25

_BRING_TO_NOW = """
UPDATE sla_clock c SET due_at = c.due_at + %(shift)s, warn_at = c.warn_at + %(shift)s
FROM bench_dirty_clock d WHERE d.clock_id = c.id AND c.state = 'running'
"""
_DEADLINES_AHEAD = """
UPDATE sla_clock c SET
    due_at = %(now)s + make_interval(secs => %(first)s + (c.id %% %(spread)s)),
    warn_at = %(now)s - make_interval(secs => 60),
    warned_at = %(now)s - make_interval(secs => 59)
FROM (SELECT id FROM sla_clock WHERE state = 'running' ORDER BY random() LIMIT %(count)s) chosen
WHERE chosen.id = c.id
RETURNING c.id
"""
_WARNING_RECORDS = """
INSERT INTO sla_record (created_at, updated_at, organization_id, clock_id, ticket_id, kind, clock_kind, epoch,
                        due_at, recorded_at, detected_by)
SELECT c.warned_at, c.warned_at, c.organization_id, c.id, c.ticket_id, 'warning', c.kind, c.epoch,
       c.warn_at, c.warned_at, 'sweep'
FROM sla_clock c WHERE c.id = ANY(%(ids)s)
"""


def bring_seed_to_now(t0: Any) -> int:
    """Move every running clock forward by the time since the seed moment plus a margin, marked to be put back:
    what a real beat needs, since it sweeps at the real "now". Returns how many clocks moved."""
    with transaction.atomic(), connection.cursor() as cursor:
        mark_dirty("SELECT id FROM sla_clock WHERE state = 'running'", [])
        cursor.execute(_BRING_TO_NOW, {"shift": timezone.now() - t0 + MARGIN})
        moved = int(cursor.rowcount)
        cursor.execute(SUMMARIES_FROM_CLOCKS)
    return moved


def _deadlines_ahead(count: int) -> list[int]:
    with transaction.atomic(), connection.cursor() as cursor:
        first, last = AHEAD_SECONDS
        cursor.execute(
            _DEADLINES_AHEAD, {"now": timezone.now(), "first": first, "spread": last - first + 1, "count": count}
        )
        ids = [int(row[0]) for row in cursor.fetchall()]
        cursor.execute(_WARNING_RECORDS, {"ids": ids})
        cursor.execute(SUMMARIES_FROM_CLOCKS)
    return ids


def deadline_to_breach(*, t0: Any, clocks: int, env: dict[str, str], folder: Path) -> dict[str, Any]:
    moved = bring_seed_to_now(t0)
    with (
        worker(name="bench-sla", queues="default,sla,notifications", concurrency=2, env=env, folder=folder) as sla,
        beat(env=env, folder=folder) as scheduler,
    ):
        ids = _deadlines_ahead(clocks)
        give_up = time.monotonic() + AHEAD_SECONDS[1] + WAIT_AFTER_LAST_DEADLINE
        breaches = Record.objects.filter(clock_id__in=ids, kind=Record.Kind.BREACH)
        while breaches.count() < len(ids) and time.monotonic() < give_up and sla.alive() and scheduler.alive():
            time.sleep(POLL_SECONDS)
        memory = {"worker": sla.memory(), "beat": scheduler.memory()}
    lags = [(recorded - due).total_seconds() for due, recorded in breaches.values_list("due_at", "recorded_at")]
    latency = summarize(lags)
    checks = {
        "every_deadline_recorded": len(lags) == len(ids),
        "recorded_by_the_sweep": not breaches.exclude(detected_by=Record.DetectedBy.SWEEP).exists(),
        "none_recorded_early": all(lag >= 0 for lag in lags),
    }
    return {
        "clocks": len(ids),
        "running_clocks_brought_to_now": moved,
        "recorded": len(lags),
        "latency": latency,
        "sweep_interval_s": settings.SLA_SWEEP_INTERVAL.total_seconds(),
        "processes_memory": memory,
        "checks": checks,
        "verified": all(checks.values()),
    }
