"""One soak run, from the database to the report. Imported only after Django is set up (see bench.soak).

1. The soak's database is prepared as the benchmark prepares its own (seeded at the scale, or the seed reused), the
   seed's running clocks are brought to the present (a real beat sweeps at the real "now"), two organizations get
   deadlines of minutes so that breaches keep coming, and tickets are opened for the engineers to work.
2. gunicorn, a Celery worker (every queue) and beat start; engineers and some customers sign in through the portal.
3. The load driver runs the mix of `bench.soak_mix` for warm-up + duration seconds while this process samples the
   RSS of every process and /healthz every few seconds.
4. The worker is given time to deliver every notice queued, the figures are read from the database, the processes
   stop and the seed is put back (the tickets, messages, records, notices and alerts of the run go; the clocks moved
   return; the short deadlines go).
"""

import json
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from bench import soak_report
from bench.config import ROOT, SEED_PASSWORD, Options, database_name, portal_environment
from bench.procinfo import cpu_seconds, machine, machine_cpu_seconds, memory
from bench.run import LOGIN_PATH, code_version, prepare, versions
from bench.scenarios.breach import bring_seed_to_now
from bench.scenarios.http import alert_sources, database_backends, identities, staff_identity
from bench.server import HOST, Portal
from bench.signin import session_cookie
from bench.soak_mix import People, request_pool
from bench.soak_settings import (
    DRAIN_TIMEOUT_SECONDS,
    SHORT_FIRST_RESPONSE_SECONDS,
    SHORT_RESOLUTION_SECONDS,
    SHORT_TARGET_ORGANIZATIONS,
    TICKETS_TO_WORK,
    SoakSettings,
)
from bench.state import seed_restore, seed_verify
from bench.stats import summarize
from bench.workers import CeleryProcess, beat, worker
from monitoring.models import InboundEvent
from notifications.models import OutboxMessage
from sla.models import PolicyVersion, Record
from sla.services import policy_version_create
from tenancy.models import Organization, User
from tickets.models import Ticket, TicketType
from tickets.services import ticket_open

Log = Callable[[str], None]
SIGNED_IN_CUSTOMERS = 4
QUEUES = "default,sla,notifications,monitoring"


def run(options: Options, soak: SoakSettings, *, log: Log) -> int:
    started = time.perf_counter()
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "settings": {
            "scale": options.scale.name,
            "duration": options.duration,
            "warmup": options.warmup,
            "clients": options.clients,
            "think_seconds": soak.think_seconds,
            "gunicorn_workers": options.workers,
            "celery": f"one worker, queues {QUEUES}, 2 processes; one beat",
            "sample_every": soak.sample_every,
            "database": database_name(options.database_url),
            "redis": options.redis_url,
        },
        "machine": machine(),
        "code": code_version(),
    }
    marker = prepare(options, log)
    results["seed"] = {key: marker[key] for key in ("scale", "t0", "reused", "counts_now") if key in marker}
    results["versions"] = versions(options.redis_url)
    _flush(options.redis_url)
    policies_before = PolicyVersion.objects.aggregate(last=Max("pk"))["last"] or 0
    try:
        moved = bring_seed_to_now(datetime.fromisoformat(marker["t0"]))
        log(f"seed brought to the present ({moved:,} running clocks moved)")
        people = _people()
        results["short_deadlines"] = _shorten_deadlines(people)
        people.tickets_to_work = _open_tickets_to_work(people)
        log(f"{len(people.tickets_to_work)} tickets opened for the engineers to work")
        results |= _load(options, soak, people, log)
        results["afterwards"] = _afterwards(marker["high_water"])
    finally:
        restored = seed_restore(marker)
        PolicyVersion.objects.filter(pk__gt=policies_before).delete()
        _flush(options.redis_url)
        log(f"seed put back ({restored})")
    # The run must leave the seed as it found it, for the next soak or bench run on this database.
    results["seed_verify_after_run"] = seed_verify(t0=marker["t0"])
    results["load_average_after"] = machine()["load_average"]
    results["soak_process_memory"] = memory()
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["verdict"] = soak_report.verdict(results)
    json_path, md_path = soak_report.write(results, options.out_dir)
    sys.stdout.write(soak_report.summary(results) + f"\n\nResults: {json_path}\n         {md_path}\n")
    return 0 if results["verdict"]["passed"] else soak_report.VERDICT_FAILED


def _flush(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()  # the soak's own database: wake-ups of a stopped worker would wait for the next run
    finally:
        client.close()


def _people() -> People:
    return People(customers=identities(), staff=staff_identity(), sources=alert_sources(), tickets_to_work=[])


def _shorten_deadlines(people: People) -> list[str]:
    """Deadlines of minutes for a few of the customers' organizations, as a contract override (removed afterwards)."""
    admin = User.objects.filter(staff_role=User.StaffRole.SUPPORT_ADMIN).order_by("pk").first()
    if admin is None:
        raise RuntimeError("The soak database has no support admin: reseed (--reseed).")
    slugs = [person["slug"] for person in people.customers[:SHORT_TARGET_ORGANIZATIONS]]
    for organization in Organization.objects.filter(slug__in=slugs):
        policy_version_create(
            organization=organization,
            overrides={
                "first_response_seconds": {"*": SHORT_FIRST_RESPONSE_SECONDS},
                "resolution_seconds": {kind: {"*": SHORT_RESOLUTION_SECONDS} for kind in TicketType.values},
            },
            created_by=admin,
            reason="Soak run: deadlines of minutes, so that the sweeper records breaches all along",
            at=timezone.now(),
        )
    return slugs


def _open_tickets_to_work(people: People) -> list[tuple[str, str]]:
    """Tickets the customers opened just before the load, spread over their organizations: the engineers reply to
    these (the seed's own tickets are only read, so they stay as seeded)."""
    requesters = {user.email: user for user in User.objects.filter(email__in=[p["email"] for p in people.customers])}
    organizations = {o.slug: o for o in Organization.objects.filter(slug__in=[p["slug"] for p in people.customers])}
    opened = []
    for number in range(TICKETS_TO_WORK):
        person = people.customers[number % len(people.customers)]
        ticket = ticket_open(
            organization=organizations[person["slug"]],
            requester=requesters[person["email"]],
            subject=f"Intermittent 502s behind the load balancer ({number})",
            description="Two of five requests fail since the last deploy.",
            ticket_type="incident",
            priority=("P1", "P2", "P3", "P4")[number % 4],
            source="api",
        )
        opened.append((person["slug"], str(ticket.public_id)))
    return opened


def _sign_in(portal: Portal, people: People) -> None:
    for person in people.customers[:SIGNED_IN_CUSTOMERS]:
        people.customer_cookies[person["slug"]] = session_cookie(
            host=HOST, port=portal.port, login_path=LOGIN_PATH, username=person["email"], password=SEED_PASSWORD
        )
    people.staff_cookie = session_cookie(
        host=HOST, port=portal.port, login_path=LOGIN_PATH, username=people.staff["email"], password=SEED_PASSWORD
    )


def _load(options: Options, soak: SoakSettings, people: People, log: Log) -> dict[str, Any]:
    env = portal_environment(options)
    folder = options.out_dir
    folder.mkdir(parents=True, exist_ok=True)
    with ExitStack() as running:
        portal = running.enter_context(
            Portal(env=env, workers=options.workers, log_path=folder / "gunicorn.log", cwd=ROOT)
        )
        celery = running.enter_context(worker(name="soak", queues=QUEUES, concurrency=2, env=env, folder=folder))
        scheduler = running.enter_context(beat(env=env, folder=folder))
        _sign_in(portal, people)
        spec = {
            "host": HOST,
            "port": portal.port,
            "clients": options.clients,
            "duration": options.duration,
            "warmup": options.warmup,
            "think_seconds": soak.think_seconds,
            "requests": request_pool(people, now=timezone.now()),
            "timeout": 60,
            "seed": 11,
        }
        log(
            f"load: {options.clients} clients, {options.warmup:.0f} s warm-up + {options.duration:.0f} s, "
            f"gunicorn {options.workers} workers, worker and beat"
        )
        driven, samples = _drive(spec, folder, portal, celery, scheduler, every=soak.sample_every)
        log(f"load done: {driven['requests']} requests, {driven['errors']} errors; delivering what is left")
        drained = _drain()
        samples.append(_sample(driven["duration_s"] + options.warmup, portal, celery, scheduler, driver=None))
        loaded = {
            "load": driven,
            "samples": samples,
            "drained_in_seconds": drained,
            "gunicorn": portal.settings(),
        }
    loaded["celery_log_errors"] = _log_errors(celery, scheduler)  # read once they have stopped: complete logs
    return loaded


def _drive(
    spec: dict[str, Any],
    folder: Path,
    portal: Portal,
    celery: CeleryProcess,
    scheduler: CeleryProcess,
    *,
    every: float,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run the driver as a process of its own and sample everything while it runs; its result and the samples."""
    output = folder / "driver.json"
    with output.open("w") as out:
        driver = subprocess.Popen(
            [sys.executable, "-m", "bench.driver"],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            text=True,
        )
        assert driver.stdin is not None
        driver.stdin.write(json.dumps(spec))
        driver.stdin.close()
        begun = time.monotonic()
        samples = []
        while driver.poll() is None:
            samples.append(_sample(time.monotonic() - begun, portal, celery, scheduler, driver=driver.pid))
            time.sleep(every)
        assert driver.stderr is not None
        problems = driver.stderr.read()
    if driver.returncode != 0:
        raise RuntimeError(f"the load driver failed ({driver.returncode}): {problems[-2000:]}")
    result: dict[str, Any] = json.loads(output.read_text())
    return result, samples


def _sample(
    at: float, portal: Portal, celery: CeleryProcess, scheduler: CeleryProcess, *, driver: int | None
) -> dict[str, Any]:
    assert portal.process is not None
    processes = {"gunicorn master": portal.process.pid}
    processes |= {f"gunicorn worker {pid}": pid for pid in portal.worker_pids()}
    main, *pool = celery.pids()
    processes |= {"celery worker": main, **{f"celery worker pool {pid}": pid for pid in pool}}
    processes["celery beat"] = scheduler.pids()[0]
    if driver is not None:
        processes["load driver"] = driver
    rss = {label: memory(pid).get("rss_mib") for label, pid in processes.items()}
    cpu = {label: cpu_seconds(pid) for label, pid in processes.items()}
    cpu |= {f"postgresql backend {pid}": cpu_seconds(pid) for pid in database_backends()}
    try:
        status, health = portal.request("GET", "/healthz")
    except OSError as error:
        status, health = 0, {"error": repr(error)}
    return {
        "at_s": round(at, 1),
        "rss_mib": rss,
        "cpu_s": cpu,
        "machine_cpu_s": machine_cpu_seconds(),
        "healthz": {"status": status, **_health_figures(health)},
    }


def _health_figures(health: Any) -> dict[str, Any]:
    if not isinstance(health, dict):
        return {}
    sweeper, outbox = health.get("sla_sweeper", {}), health.get("outbox", {})
    return {
        "failing": sorted(
            name for name, check in health.items() if isinstance(check, dict) and check.get("ok") is False
        ),
        "sweeper_lag_s": sweeper.get("lag_seconds"),
        "sweeper_heartbeat_age_s": sweeper.get("heartbeat_age_seconds"),
        "outbox": {key: value for key, value in outbox.items() if key != "ok"},
    }


def _drain() -> float | None:
    """Wait for the worker to deliver every notice that is due and to process every alert received; seconds taken,
    or None when it did not finish in time."""
    begun = time.monotonic()
    while time.monotonic() - begun < DRAIN_TIMEOUT_SECONDS:
        due = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=timezone.now())
        if not due.exists() and not InboundEvent.objects.filter(status=InboundEvent.Status.PENDING).exists():
            return round(time.monotonic() - begun, 1)
        time.sleep(1)
    return None


def _afterwards(high_water: dict[str, int]) -> dict[str, Any]:
    """What the run left in the database, before it is put back: every row above the seed's high-water marks."""
    new_tickets = Ticket.objects.filter(pk__gt=high_water["tickets_ticket"])
    records = Record.objects.filter(pk__gt=high_water["sla_record"])
    outbox = OutboxMessage.objects.filter(pk__gt=high_water["notifications_outboxmessage"])
    events = InboundEvent.objects.filter(pk__gt=high_water["monitoring_inboundevent"])
    breaches = records.filter(kind=Record.Kind.BREACH).only("due_at", "recorded_at")
    # A deadline more than a minute past and still not recorded means the sweeper fell behind (/healthz's limit).
    overdue = Ticket.objects.filter(sla_next_due_at__lt=timezone.now() - timedelta(minutes=1))
    return {
        "tickets_opened": _counts(new_tickets, "source"),
        "sla_records": _counts(records, "kind"),
        "breach_lateness": summarize([record.lateness_seconds for record in breaches]),
        "outbox": _counts(outbox, "status"),
        "alert_events": _counts(events, "status"),
        "overdue_unrecorded_deadlines": overdue.count(),
    }


def _counts(rows: QuerySet[Any], column: str) -> dict[str, int]:
    return dict(rows.order_by().values_list(column).annotate(count=Count("pk")))


def _log_errors(*processes: CeleryProcess) -> dict[str, int]:
    return {process.name: process.log_text().count("ERROR/") for process in processes}
