"""`python -m bench.soak` (`make soak`): the portal under a mixed load for a long while, watched for errors, growth and
latency.

Customers open and read tickets, engineers work the queue and reply, monitoring systems stream alerts into the intake,
and a real Celery worker and beat sweep deadlines and deliver notices, all at once over loopback for `--duration`
seconds (ten minutes by default) against gunicorn on PostgreSQL and Redis. The run reports the requests served per
kind, every error (there must be none), p50/p95 latency per kind beside the benchmark's targets (the p95 must be
within them), and the RSS of every process sampled over time with its growth after the warm-up (at most 10 %), as
JSON and Markdown under var/soak/<UTC timestamp>/. See docs/performance.md, "Soak".

It reuses the benchmark harness: its database handling and seed (its own database, `SOAK_DATABASE_URL`), gunicorn
(`bench.server`), Celery processes (`bench.workers`) and load driver (`bench.driver`).
"""

import argparse
import os
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

import django

from bench.config import GUNICORN_WORKERS, ROOT, SCALES, Options, portal_environment
from bench.soak_settings import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, SoakSettings


def log(message: str) -> None:
    sys.stderr.write(f"[soak {datetime.now(UTC):%H:%M:%S}] {message}\n")
    sys.stderr.flush()


def parse(argv: list[str] | None) -> tuple[Options, SoakSettings]:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="measured seconds of mixed load (default 600)")
    parser.add_argument("--warmup", type=float, default=60, help="seconds of load before measuring (default 60)")
    parser.add_argument("--scale", choices=sorted(SCALES), default="small", help="the seeded dataset (default small)")
    parser.add_argument("--clients", type=int, default=6, help="concurrent clients of every kind (default 6)")
    parser.add_argument("--think", type=float, default=0.1, help="each client's pause between requests, s (0.1)")
    parser.add_argument(
        "--workers", type=int, default=GUNICORN_WORKERS, help=f"gunicorn workers (default {GUNICORN_WORKERS})"
    )
    parser.add_argument("--sample-every", type=float, default=5, help="seconds between RSS samples (default 5)")
    parser.add_argument("--reseed", action="store_true", help="drop the soak database and seed it again")
    parser.add_argument("--out", type=Path, help="results folder (default var/soak/<UTC timestamp>)")
    args = parser.parse_args(argv)
    scale = SCALES[args.scale]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    options = Options(
        scale=scale,
        database_url=os.environ.get("SOAK_DATABASE_URL") or DEFAULT_DATABASE_URL,
        redis_url=os.environ.get("SOAK_REDIS_URL") or DEFAULT_REDIS_URL,
        out_dir=args.out or ROOT / "var" / "soak" / stamp,
        scenarios=(),
        duration=args.duration,
        warmup=args.warmup,
        clients=args.clients,
        read_clients=args.clients,
        workers=args.workers,
        sweep_repeats=scale.sweep_repeats,
        due_clocks=scale.due_clocks,
        alert_events=scale.alert_events,
        breach_clocks=scale.breach_clocks,
        reseed=args.reseed,
    )
    return options, SoakSettings(think_seconds=args.think, sample_every=args.sample_every)


def main(argv: list[str] | None = None) -> int:
    options, soak = parse(argv)
    # The settings module reads the environment once, at import: set it before Django starts.
    os.environ.update(portal_environment(options))
    os.chdir(ROOT)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    django.setup()
    from bench.soak_run import run  # noqa: PLC0415 (imports Django models: only once Django is set up)

    return run(options, soak, log=log)


if __name__ == "__main__":
    raise SystemExit(main())
