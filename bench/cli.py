"""`python -m bench`: parse the options, point the environment at the bench database, then run."""

import argparse
import os
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

import django

from bench.config import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    GUNICORN_WORKERS,
    ROOT,
    SCALES,
    Options,
    portal_environment,
)

SCENARIOS = (
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
    "sla_sweep_idle",
    "sla_sweep_10k_due",
    "alert_processing",
    "deadline_to_breach",
)


def log(message: str) -> None:
    sys.stderr.write(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}\n")
    sys.stderr.flush()


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Seed the bench database, serve the portal with gunicorn and measure it (docs/performance.md).",
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help=f"comma-separated subset of: {', '.join(SCENARIOS)}"
    )
    parser.add_argument("--duration", type=float, help="measured seconds per HTTP scenario (default: by scale)")
    parser.add_argument("--warmup", type=float, help="uncounted seconds before each HTTP scenario (default: by scale)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients opening tickets (default 4)")
    parser.add_argument(
        "--read-clients", type=int, default=2, help="concurrent clients reading lists and details (default 2)"
    )
    parser.add_argument(
        "--workers", type=int, default=GUNICORN_WORKERS, help=f"gunicorn workers (default {GUNICORN_WORKERS})"
    )
    parser.add_argument("--sweep-repeats", type=int, help="idle sweeps timed (default: by scale)")
    parser.add_argument("--due", type=int, help="clocks made due at once for sla_sweep_10k_due (default: by scale)")
    parser.add_argument(
        "--alert-events", type=int, help="deliveries of 100 alerts for alert_processing (default: by scale)"
    )
    parser.add_argument(
        "--breach-clocks", type=int, help="deadlines a few seconds ahead for deadline_to_breach (default: by scale)"
    )
    parser.add_argument("--reseed", action="store_true", help="drop the bench database and seed it again")
    parser.add_argument("--out", type=Path, help="results folder (default var/bench/<UTC timestamp>)")
    args = parser.parse_args(argv)
    scale = SCALES[args.scale]
    scenarios = tuple(name.strip() for name in args.scenarios.split(",") if name.strip())
    if unknown := sorted(set(scenarios) - set(SCENARIOS)):
        parser.error(f"unknown scenarios: {', '.join(unknown)}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Options(
        scale=scale,
        database_url=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL,
        redis_url=os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL,
        out_dir=args.out or ROOT / "var" / "bench" / stamp,
        scenarios=scenarios,
        duration=args.duration if args.duration is not None else scale.duration,
        warmup=args.warmup if args.warmup is not None else scale.warmup,
        clients=args.clients,
        read_clients=args.read_clients,
        workers=args.workers,
        sweep_repeats=args.sweep_repeats if args.sweep_repeats is not None else scale.sweep_repeats,
        due_clocks=args.due if args.due is not None else scale.due_clocks,
        alert_events=args.alert_events if args.alert_events is not None else scale.alert_events,
        breach_clocks=args.breach_clocks if args.breach_clocks is not None else scale.breach_clocks,
        reseed=args.reseed,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    # The settings module reads the environment once, at import: set it before Django starts.
    os.environ.update(portal_environment(options))
    os.chdir(ROOT)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    # Static files are not collected for the bench (as in the test suite); WhiteNoise would say so on every start.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    django.setup()
    from bench.run import run  # noqa: PLC0415 (imports Django models: only once Django is set up)

    return run(options, log=log)
