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
from bench.scenarios import http, queries, sweep
from bench.seed import marker_save, marker_table_create, migrations_state, seed
from bench.server import Portal
from bench.state import seed_counts, seed_restore, seed_verify

Log = Callable[[str], None]
HTTP_SCENARIOS = ("ticket_list_api", "ticket_detail_api", "open_ticket_api")


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


def _http_scenarios(options: Options, results: dict[str, Any], people: list[dict[str, Any]], log: Log) -> None:
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
        results["server"] = {"port": portal.port, "workers_at_start": portal.memory()}
        status, body = portal.request(
            "POST",
            "/api/v1/auth/token/",
            {"email": f"admin@{people[0]['slug']}.bench.example", "password": SEED_PASSWORD},
        )
        results["server"]["sign_in"] = {
            "status": status,
            "token_matches_seed": isinstance(body, dict) and body.get("token") == people[0]["token"],
        }
        for name in wanted:
            clients = options.clients if name == "open_ticket_api" else options.read_clients
            log(f"{name}: {clients} clients, {options.warmup} s warm-up + {options.duration} s")
            result = http.drive(
                portal,
                scenario=name,
                clients=clients,
                duration=options.duration,
                warmup=options.warmup,
                people=people,
            )
            result.update(results["scenarios"].get(name, {}))
            results["scenarios"][name] = result
            log(f"{name}: {result['throughput_per_s']}/s, median {result['latency'].get('median_ms')} ms")


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
    people = http.identities()

    log("counting SQL queries per request")
    if "ticket_list_api" in options.scenarios:
        results["scenarios"]["ticket_list_api"] = _queries(queries.list_queries(people))
    if "ticket_detail_api" in options.scenarios:
        results["scenarios"]["ticket_detail_api"] = _queries(queries.detail_queries(people))
    if "open_ticket_api" in options.scenarios:
        results["scenarios"]["open_ticket_api"] = _queries(queries.open_queries(people))

    _http_scenarios(options, results, people, log)
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

    results["load_average_after"] = machine()["load_average"]
    results["bench_process_memory"] = memory()
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    json_path, md_path = report.write(results, options.out_dir)
    sys.stdout.write(report.text_table(report.rows(results)) + "\n")
    sys.stdout.write(f"\nResults: {json_path}\n         {md_path}\n")
    failed = [name for name, result in results["scenarios"].items() if "error" in result]
    return 1 if failed else 0


def _queries(found: dict[str, Any]) -> dict[str, Any]:
    return {
        "queries_per_request": found["queries_per_request"],
        "query_detail": found,
    }
