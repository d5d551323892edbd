"""One bench run, from the database to the report. Imported only after Django is set up (see bench.cli)."""

import importlib.metadata
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import django
import redis
from django.core.management import call_command
from django.db import connection

from bench import database, report
from bench.config import ROOT, SEED_PASSWORD, SEED_VERSION, Options, database_name, portal_environment
from bench.procinfo import machine, memory
from bench.scenarios import breach, http, processing, queries, sweep
from bench.seed import marker_save, marker_table_create, migrations_state, seed
from bench.server import HOST, Portal
from bench.signin import session_cookie
from bench.state import seed_counts, seed_restore, seed_verify
from tickets.queue import queue_version

Log = Callable[[str], None]
# In this order: the reads first, then what writes (a new ticket changes the queue's change marker).
HTTP_SCENARIOS = (
    "ticket_list_api",
    "ticket_detail_api",
    "ticket_list_html",
    "ticket_detail_html",
    "queue_html",
    "queue_api",
    "queue_filters_api",
    "queue_refresh_unchanged",
    "open_ticket_api",
    "alert_intake",
    "alert_intake_5mib_refused",
)
WRITE_CLIENT_SCENARIOS = ("open_ticket_api", "alert_intake")
LOGIN_PATH = "/accounts/login/"


def _reseed_reason(options: Options, marker: dict[str, Any] | None) -> str | None:
    if options.reseed:
        return "--reseed"
    if marker is None:
        return "no seed yet"
    if marker.get("scale") != options.scale.name:
        return f"the database holds scale {marker.get('scale')}"
    if marker.get("version") != SEED_VERSION:
        return f"seed version {marker.get('version')} is not {SEED_VERSION}"
    if marker.get("migrations") != migrations_state():
        return "the migrations changed since the seed"
    return None


def prepare(options: Options, log: Log) -> dict[str, Any]:
    """A migrated database at the requested scale, as seeded: returns the seed's marker, plus how it was obtained."""
    marker = database.seed_marker(options.database_url)
    reason = _reseed_reason(options, marker)
    if reason:
        exists = database.database_exists(options.database_url)
        if exists and not database.may_drop(options.database_url):
            raise SystemExit(
                f"Refusing to drop {database_name(options.database_url)}: it holds tables but no bench marker. "
                "Point BENCH_DATABASE_URL at a database of the bench's own."
            )
        log(f"database {options.database_url}: seeding at scale {options.scale.name} ({reason})")
        database.database_create(options.database_url, drop_first=exists)
    call_command("migrate", verbosity=0, interactive=False)
    marker_table_create()  # before seeding: a seed that fails half-way still leaves the database recognisably ours
    if reason:
        marker = seed(scale=options.scale, log=log)
        log("seed: verifying")
        marker["verify"] = seed_verify(t0=marker["t0"])
        marker_save(marker)  # a reused seed reports the checks made when it was made
        if problems := {name: count for name, count in marker["verify"].items() if count}:
            log(f"seed: PROBLEMS {problems}")
        marker["reused"] = False
    else:
        assert marker is not None
        log(f"database {options.database_url}: reusing the {options.scale.name} seed of {marker['t0']}")
        marker["reused"] = True
        if restored := seed_restore(marker):
            log(f"seed: put back as seeded ({restored})")
        if "verify" not in marker:  # seeded by a bench that did not keep its checks
            marker["verify"] = seed_verify(t0=marker["t0"])
            marker_save(marker)
    marker["counts_now"] = seed_counts()
    return marker


def versions(redis_url: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        row = cursor.fetchone()
    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": str(row[0]) if row else "?",
        "gunicorn": importlib.metadata.version("gunicorn"),
        "redis-server": _redis_version(redis_url),
    }


def _redis_version(url: str) -> str:
    client = redis.Redis.from_url(url)
    try:
        return str(client.info("server").get("redis_version", "?"))
    except redis.RedisError:
        return "?"
    finally:
        client.close()


def code_version() -> dict[str, Any]:
    """The commit measured, and how many files differed from it: figures describe the code as it was."""
    git = shutil.which("git")
    if git is None:
        return {}
    try:
        head = subprocess.run(  # noqa: S603 (fixed arguments)
            [git, "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        changed = subprocess.run(  # noqa: S603 (fixed arguments)
            [git, "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=30
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"commit": head, "uncommitted_files": len(changed)}


def _flush_redis(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()  # the bench's own database: Celery wake-ups nobody consumes would pile up
    finally:
        client.close()


def _sign_in(portal: Portal, context: http.Context, options: Options) -> None:
    """Sessions for the HTML scenarios, through the portal's own sign-in form."""
    wanted = set(options.scenarios)
    customers = context.customers
    if wanted & {"ticket_list_html", "ticket_detail_html"}:
        step = max(1, len(customers) // http.HTML_IDENTITIES)
        for person in customers[::step][: http.HTML_IDENTITIES]:
            context.customer_cookies[person["slug"]] = session_cookie(
                host=HOST, port=portal.port, login_path=LOGIN_PATH, username=person["email"], password=SEED_PASSWORD
            )
    if wanted & {"queue_html", "queue_refresh_unchanged"}:
        context.staff_cookie = session_cookie(
            host=HOST, port=portal.port, login_path=LOGIN_PATH, username=context.staff["email"], password=SEED_PASSWORD
        )


def _http_scenarios(options: Options, results: dict[str, Any], context: http.Context, log: Log) -> None:
    wanted = [name for name in HTTP_SCENARIOS if name in options.scenarios]
    if not wanted:
        return
    log(f"starting gunicorn ({options.workers} workers)")
    with Portal(
        env=portal_environment(options),
        workers=options.workers,
        log_path=options.out_dir / "gunicorn.log",
        cwd=ROOT,
    ) as portal:
        results["server"] = {"port": portal.port, "gunicorn": portal.settings(), "workers_at_start": portal.memory()}
        people = context.customers
        status, body = portal.request(
            "POST", "/api/v1/auth/token/", {"email": people[0]["email"], "password": SEED_PASSWORD}
        )
        results["server"]["sign_in"] = {
            "status": status,
            "token_issued": isinstance(body, dict) and isinstance(body.get("token"), str),
        }
        _sign_in(portal, context, options)
        context.queue_version = queue_version()
        for name in wanted:
            scenario = http.plan(name, context, clients=options.clients, read_clients=options.read_clients)
            log(
                f"{name}: {scenario.clients} clients, {options.warmup} s warm-up + "
                f"{options.duration * scenario.duration_factor} s"
            )
            result = http.drive(portal, scenario=scenario, duration=options.duration, warmup=options.warmup)
            result.update(results["scenarios"].get(name, {}))
            results["scenarios"][name] = result
            per_s = result.get("units_per_s", result["throughput_per_s"])
            figure = f"{per_s} alerts/s" if "units_per_s" in result else f"{per_s}/s"
            log(f"{name}: {figure}, median {result['latency'].get('median_ms')} ms")


def run(options: Options, *, log: Log) -> int:
    started = time.perf_counter()
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "scale": {
            "name": options.scale.name,
            "organizations": options.scale.organizations,
            "tickets": options.scale.tickets,
            "open_tickets": options.scale.open_tickets,
        },
        "settings": {
            "workers": options.workers,
            "clients": options.clients,
            "read_clients": options.read_clients,
            "duration": options.duration,
            "warmup": options.warmup,
            "sweep_repeats": options.sweep_repeats,
            "due_clocks": options.due_clocks,
            "alert_events": options.alert_events,
            "breach_clocks": options.breach_clocks,
            "database": database_name(options.database_url),
            "redis": options.redis_url,
        },
        "machine": machine(),
        "code": code_version(),
        "scenarios": {},
    }
    marker = prepare(options, log)
    results["seed"] = marker
    results["versions"] = versions(options.redis_url)
    _flush_redis(options.redis_url)
    t0 = datetime.fromisoformat(marker["t0"])
    context = http.Context(customers=http.identities(), staff=http.staff_identity(), sources=http.alert_sources())

    log("counting SQL queries per request")
    _count_queries(options, results, context)
    seed_restore(marker)

    _http_scenarios(options, results, context, log)
    seed_restore(marker)

    if "sla_sweep_idle" in options.scenarios:
        log(f"sla_sweep_idle: {options.sweep_repeats} sweeps with nothing due")
        results["scenarios"]["sla_sweep_idle"] = sweep.sweep_idle(t0=t0, repeats=options.sweep_repeats)
    if "sla_sweep_10k_due" in options.scenarios:
        log(f"sla_sweep_10k_due: {options.due_clocks:,} clocks due at once")
        results["scenarios"]["sla_sweep_10k_due"] = sweep.sweep_due(
            t0=t0, due=options.due_clocks, redis_url=options.redis_url
        )
        seed_restore(marker)
    _worker_scenarios(options, results, marker, log)

    ran = results["scenarios"]
    results["scenarios"] = {name: ran[name] for name in options.scenarios if name in ran}
    # Every scenario that wrote has been undone: the seed must keep every promise it made.
    results["seed_verify_after_run"] = seed_verify(t0=marker["t0"])
    results["load_average_after"] = machine()["load_average"]
    results["bench_process_memory"] = memory()
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    json_path, md_path = report.write(results, options.out_dir)
    sys.stdout.write(report.text_table(report.rows(results)) + "\n")
    sys.stdout.write(f"\nResults: {json_path}\n         {md_path}\n")
    failed = [name for name, result in results["scenarios"].items() if "error" in result]
    return 1 if failed else 0


def _count_queries(options: Options, results: dict[str, Any], context: http.Context) -> None:
    wanted = set(options.scenarios)
    people, staff, largest = context.customers, context.staff, context.customers[0]["slug"]
    counters: dict[str, Callable[[], dict[str, Any]]] = {
        "ticket_list_api": lambda: queries.list_queries(people),
        "ticket_detail_api": lambda: queries.detail_queries(people),
        "open_ticket_api": lambda: queries.open_queries(people),
        "ticket_list_html": lambda: queries.html_list_queries(people),
        "ticket_detail_html": lambda: queries.html_detail_queries(people),
        "queue_html": lambda: queries.queue_html_queries(staff, largest),
        "queue_refresh_unchanged": lambda: queries.queue_refresh_queries(staff),
    }
    for name, counter in counters.items():
        if name in wanted:
            results["scenarios"][name] = _queries(counter())
    if wanted & {"queue_api", "queue_filters_api"}:
        found = queries.queue_api_queries(staff, largest)
        for name in {"queue_api", "queue_filters_api"} & wanted:
            results["scenarios"][name] = _queries(found)
        if "queue_filters_api" in wanted and "queue_html" in wanted:
            page = results["scenarios"]["queue_html"]["query_detail"]
            results["scenarios"]["queue_filters_api"]["html_filters"] = page["filters"]
    if wanted & {"alert_intake", "alert_intake_5mib_refused"}:
        if not context.sources:
            raise SystemExit("The bench database has no monitoring source: reseed (--reseed).")
        found = queries.intake_queries(context.sources[0], now=datetime.now(UTC))
        if "alert_intake" in wanted:
            results["scenarios"]["alert_intake"] = _queries(found)
        if "alert_intake_5mib_refused" in wanted:
            results["scenarios"]["alert_intake_5mib_refused"] = {
                "queries_per_request": found["requests"]["5 MiB body"]["queries"],
                "query_detail": found,
            }


def _worker_scenarios(options: Options, results: dict[str, Any], marker: dict[str, Any], log: Log) -> None:
    """The scenarios with real Celery processes, each on an empty Redis database and a seed put back afterwards."""
    env = portal_environment(options)
    scale = options.scale
    if "alert_processing" in options.scenarios:
        _flush_redis(options.redis_url)
        log(f"alert_processing: {options.alert_events} deliveries of 100 alerts, one worker process")
        results["scenarios"]["alert_processing"] = processing.alert_processing(
            sources=scale.alert_sources,
            events=options.alert_events,
            keys=scale.alert_keys,
            env=env,
            folder=options.out_dir / "alert_processing",
            ticket_high_water=marker["high_water"]["tickets_ticket"],
        )
        seed_restore(marker)
    if "deadline_to_breach" in options.scenarios:
        _flush_redis(options.redis_url)
        log(f"deadline_to_breach: {options.breach_clocks} deadlines a few seconds ahead, worker and beat")
        results["scenarios"]["deadline_to_breach"] = breach.deadline_to_breach(
            t0=datetime.fromisoformat(marker["t0"]),
            clocks=options.breach_clocks,
            env=env,
            folder=options.out_dir / "deadline_to_breach",
        )
        seed_restore(marker)
    _flush_redis(options.redis_url)


def _queries(found: dict[str, Any]) -> dict[str, Any]:
    return {
        "queries_per_request": found["queries_per_request"],
        "query_detail": found,
    }
