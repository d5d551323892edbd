"""`python -m bench.peer` (or `make bench-peer`): the portal and django-helpdesk side by side.

Parses the options, points the environment at the bench database as `python -m bench` does, then runs bench.peer.run.
The peer's virtualenv must exist (`make bench-peer` creates var/peer-venv from bench/peer/requirements.txt).
"""

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
from bench.peer.rows import PEER_SCALES
from bench.peer.settings import DEFAULT_DATABASE_URL as PEER_DATABASE_URL


def log(message: str) -> None:
    sys.stderr.write(f"[bench-peer {datetime.now(UTC):%H:%M:%S}] {message}\n")
    sys.stderr.flush()


def parse(argv: list[str] | None) -> tuple[Options, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.peer",
        description="The portal and django-helpdesk 2.6 side by side.",
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="small", help="our dataset (small: 100,000 tickets)")
    parser.add_argument("--peer-scale", choices=sorted(PEER_SCALES), default="peer", help="the peer's dataset")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per side and comparison (default 3)")
    parser.add_argument("--round-seconds", type=float, default=5.0, help="seconds of each round (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of the uncounted first round (default 1)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients opening tickets (default 4)")
    parser.add_argument("--read-clients", type=int, default=2, help="concurrent clients reading (default 2)")
    parser.add_argument(
        "--workers",
        type=int,
        default=GUNICORN_WORKERS,
        help=f"gunicorn workers on each side (default {GUNICORN_WORKERS})",
    )
    parser.add_argument("--peer-python", type=Path, default=ROOT / "var" / "peer-venv" / "bin" / "python")
    parser.add_argument("--reseed", action="store_true", help="seed both databases again")
    parser.add_argument("--out", type=Path, help="results folder (default var/bench/<UTC timestamp>-peer)")
    args = parser.parse_args(argv)
    args.peer_python = args.peer_python.absolute()  # not resolved: a virtualenv's python is a symbolic link
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    scale = SCALES[args.scale]
    options = Options(
        scale=scale,
        database_url=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL,
        redis_url=os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL,
        out_dir=args.out or ROOT / "var" / "bench" / f"{stamp}-peer",
        scenarios=("open_ticket_api", "queue_api", "ticket_detail_api"),
        duration=args.round_seconds,
        warmup=args.warmup,
        clients=args.clients,
        read_clients=args.read_clients,
        workers=args.workers,
        sweep_repeats=0,
        due_clocks=0,
        alert_events=0,
        breach_clocks=0,
        reseed=args.reseed,
    )
    args.peer_database_url = os.environ.get("PEER_DATABASE_URL") or PEER_DATABASE_URL
    return options, args


def main(argv: list[str] | None = None) -> int:
    options, args = parse(argv)
    if not args.peer_python.exists():
        raise SystemExit(f"{args.peer_python} is missing: `make bench-peer` creates the peer's virtualenv.")
    os.environ.update(portal_environment(options))
    os.chdir(ROOT)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    django.setup()
    from bench.peer.run import run  # noqa: PLC0415 (imports Django models: only once Django is set up)

    return run(options, args, log=log)
