"""Alert processing by one real Celery worker process (`celery -A walt_portal worker -Q monitoring -c 1`).

Deliveries of 100 alerts are accepted the way the intake URL accepts them (`monitoring.services.intake_receive`, which
stores each event and queues its processing task after commit), spread over a few Premium sources that are not in a
maintenance window. Then one worker starts and drains the queue. The figure is alerts per second between the start of
the first event's processing and the end of the last one's, read from the events' own timestamps; afterwards the rows
are checked: every event processed, and never two open alerts, or two tickets, for one source and dedup key.
"""

import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db.models import Count, Max, Min
from django.utils import timezone

from bench.alerts import ALERTS_PER_DELIVERY, deliveries
from bench.procinfo import cpu_snapshot, cpu_used
from bench.workers import worker
from maintenance.selectors import maintenance_ends_at
from monitoring.models import AlertGroup, InboundEvent, MonitoringSource
from monitoring.services import intake_receive
from tickets.models import Source, Ticket

DRAIN_TIMEOUT = 600.0
POLL_SECONDS = 0.25
MAINTENANCE_MARGIN = timedelta(minutes=15)  # a window starting mid-run would turn openings into suppressions


def _sources(count: int) -> list[MonitoringSource]:
    now = timezone.now()
    chosen = []
    for source in MonitoringSource.objects.filter(enabled=True).select_related("organization").order_by("pk"):
        organization = source.organization
        if maintenance_ends_at(organization=organization, at=now) is None and (
            maintenance_ends_at(organization=organization, at=now + MAINTENANCE_MARGIN) is None
        ):
            chosen.append(source)
        if len(chosen) == count:
            break
    return chosen


def _pending(event_ids: list[int]) -> int:
    return InboundEvent.objects.filter(pk__in=event_ids, status=InboundEvent.Status.PENDING).count()


def alert_processing(
    *, sources: int, events: int, keys: int, env: dict[str, str], folder: Path, ticket_high_water: int
) -> dict[str, Any]:
    chosen = _sources(sources)
    if not chosen:
        return {"error": "no enabled monitoring source outside a maintenance window (reseed, or wait for it to end)"}
    by_slug = {source.organization.slug: source for source in chosen}
    bodies = deliveries(slugs=list(by_slug), count=events, keys=keys, now=timezone.now())
    accepted = []
    for slug, body in bodies:
        answer = intake_receive(source=by_slug[slug], body=body.encode(), headers={}, received_at=timezone.now())
        if answer.status_code != 202:  # noqa: PLR2004
            return {"error": f"the intake refused a delivery: {answer.status_code} {answer.body}"}
        accepted.append(answer.body["event_id"])
    event_ids = list(InboundEvent.objects.filter(public_id__in=accepted).values_list("pk", flat=True))
    alerts = len(bodies) * ALERTS_PER_DELIVERY
    with worker(name="bench-monitoring", queues="monitoring", concurrency=1, env=env, folder=folder) as process:
        started = time.perf_counter()
        cpu_before = cpu_snapshot(process.pids())
        while _pending(event_ids) and time.perf_counter() - started < DRAIN_TIMEOUT and process.alive():
            time.sleep(POLL_SECONDS)
        wall = time.perf_counter() - started
        cpu = cpu_used(cpu_before, cpu_snapshot(process.pids()))
        memory = process.memory()
    return _figures(event_ids, alerts=alerts, wall=wall, cpu=cpu, memory=memory, high_water=ticket_high_water) | {
        "sources": len(chosen),
        "deliveries": len(bodies),
        "alerts_per_delivery": ALERTS_PER_DELIVERY,
        "distinct_alerts_per_source": keys,
    }


def _figures(
    event_ids: list[int], *, alerts: int, wall: float, cpu: float, memory: dict[str, Any], high_water: int
) -> dict[str, Any]:
    events = InboundEvent.objects.filter(pk__in=event_ids)
    span = events.aggregate(first=Min("processed_at"), last=Max("updated_at"))
    seconds = (span["last"] - span["first"]).total_seconds() if span["first"] and span["last"] else None
    actions: Counter[str] = Counter()
    for outcome in events.values_list("outcome", flat=True):
        actions.update(entry.get("action", "?") for entry in outcome or [])
    statuses = dict(events.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    twins = (
        AlertGroup.objects.filter(open=True)
        .values("source_id", "dedup_key")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    opened = Ticket.objects.filter(pk__gt=high_water, source=Source.MONITORING).count()
    groups_with_tickets = AlertGroup.objects.filter(ticket__pk__gt=high_water).count()
    checks = {
        "every_event_processed": statuses.get(InboundEvent.Status.PROCESSED, 0) == len(event_ids),
        "no_two_open_alerts_for_one_key": twins == 0,
        "one_ticket_per_alert_opened": opened == groups_with_tickets == actions.get("opened", 0),
    }
    return {
        "events": len(event_ids),
        "alerts": alerts,
        "seconds": None if seconds is None else round(seconds, 3),
        "alerts_per_s": round(alerts / seconds, 1) if seconds else None,
        "wall_seconds_from_worker_ready": round(wall, 3),
        "worker_cpu_s": round(cpu, 2),
        "worker_cpu_ms_per_alert": round(1000 * cpu / max(alerts, 1), 3),
        "actions": dict(actions),
        "event_statuses": statuses,
        "tickets_opened": opened,
        "worker_memory": memory,
        "checks": checks,
        "verified": all(checks.values()),
    }
