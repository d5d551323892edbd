"""One side-by-side run: both databases, query counts, both servers, alternating rounds, ratios and the report.

Ours is the portal at the bench's scale (`small`: 100,000 tickets, the peer's size); theirs is django-helpdesk in its
own virtualenv and database. Each comparison runs in short rounds, ours then theirs, again and again, so that the
machine's other load falls on both alike; the rounds' samples are pooled per side.
"""

import argparse
import base64
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from bench.config import ROOT, SEED_PASSWORD, Options, database_name, portal_environment
from bench.peer import report
from bench.peer.seed import ADMIN_USERNAME
from bench.procinfo import machine
from bench.run import _flush_redis, prepare, versions
from bench.scenarios import http, queries
from bench.server import HOST, Portal
from bench.signin import session_cookie
from bench.state import seed_restore
from bench.stats import summarize

Log = Callable[[str], None]
PEER_TIMEOUT = 600  # seconds: the peer's ticket detail reads every ticket, which takes far beyond gunicorn's 30 s
PAGE = 50  # rows of a staff list page, on both sides
OPEN_BODIES = 64
PEER_LOGIN = "/login/"
# The query the peer's own staff ticket list sends to its data endpoint by default: open and reopened, oldest first.
PEER_DEFAULT_QUERY = {
    "filtering": {"status__in": [1, 2]},
    "sorting": "created",
    "search_string": "",
    "sortreverse": False,
}


def peer_environment(args: argparse.Namespace, out: Any) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "bench.peer.settings",
        "PEER_DATABASE_URL": args.peer_database_url,
        "PEER_MEDIA_ROOT": str(out / "peer-media"),
        "PYTHONPATH": str(ROOT),
    }


def _peer(args: argparse.Namespace, env: dict[str, str], module: str, *extra: str, stdin: str = "") -> Any:
    completed = subprocess.run(  # noqa: S603 (the peer's own python, fixed arguments)
        [str(args.peer_python), "-m", module, *extra],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=3600,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{module} failed ({completed.returncode}): {completed.stderr[-3000:]}")
    sys.stderr.write(completed.stderr)
    return json.loads(completed.stdout)


def peer_list_path(length: int = PAGE) -> str:
    """The data endpoint the peer's staff ticket list calls, for its first page with the list's default query."""
    query = base64.b64encode(json.dumps(PEER_DEFAULT_QUERY).encode()).decode("ascii")
    params = {
        "draw": 1,
        "start": 0,
        "length": length,
        "order[0][column]": 5,
        "order[0][dir]": "asc",
        "search[value]": "",
    }
    return f"/datatables_ticket_list/{query}?{urlencode(params)}"


def _peer_open_bodies(queues: list[int], rng: random.Random) -> list[str]:
    return [
        json.dumps(
            {
                "queue": rng.choice(queues),
                "title": rng.choice(http.SUBJECTS),
                "description": "Since 09:40 UTC every checkout request fails.\n\nNothing changed on our side.",
                "submitter_email": f"customer{n}@peer.bench.example",
                "priority": rng.choice((1, 2, 3, 3, 4)),
            }
        )
        for n in range(OPEN_BODIES)
    ]


def _peer_plans(info: dict[str, Any], cookie: str, options: Options) -> dict[str, http.Plan]:
    token = info["marker"]["token"]
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    rng = random.Random(7)  # noqa: S311 (request mix, not secrets)
    opening = [
        {
            "method": "POST",
            "path": "/api/tickets/",
            "headers": {**headers, "Content-Type": "application/json"},
            "body": b,
        }
        for b in _peer_open_bodies(info["marker"]["queues"], rng)
    ]
    listing = [{"method": "GET", "path": peer_list_path(), "headers": {"Cookie": cookie, "Accept": "application/json"}}]
    detail = [{"method": "GET", "path": f"/api/tickets/{ticket}/", "headers": headers} for ticket in info["tickets"]]
    return {
        "open_ticket": http.Plan(opening, options.clients),
        "staff_list": http.Plan(listing, options.read_clients),
        "ticket_detail": http.Plan(detail, options.read_clients),
    }


def _our_plans(context: http.Context, options: Options) -> dict[str, http.Plan]:
    plans = {
        "open_ticket": http.plan(
            "open_ticket_api", context, clients=options.clients, read_clients=options.read_clients
        ),
        "staff_list": http.plan("queue_api", context, clients=options.clients, read_clients=options.read_clients),
        "ticket_detail": http.plan(
            "ticket_detail_api", context, clients=options.clients, read_clients=options.read_clients
        ),
    }
    for request in plans["staff_list"].requests:
        request["path"] += f"?page_size={PAGE}"
    return plans


ENDPOINTS = {
    "ours": {
        "open_ticket": "POST /api/v1/orgs/<slug>/tickets/",
        "staff_list": f"GET /api/v1/queue/?page_size={PAGE}",
        "ticket_detail": "GET /api/v1/orgs/<slug>/tickets/<id>/",
    },
    "theirs": {
        "open_ticket": "POST /api/tickets/",
        "staff_list": f"GET /datatables_ticket_list/<default query>?length={PAGE}",
        "ticket_detail": "GET /api/tickets/<id>/",
    },
}


def _pooled(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One side's rounds as one measurement: samples pooled, time and requests added up."""
    samples = [value for result in rounds for value in result.get("samples_s", [])]
    seconds = sum(result["duration_s"] for result in rounds)
    requests = sum(result["requests_including_warmup"] for result in rounds)
    cpu = sum(
        result.get("cpu_per_request", {}).get("total_ms", 0.0) * result["requests_including_warmup"]
        for result in rounds
    )
    return {
        "rounds": len(rounds),
        "seconds": round(seconds, 3),
        "ok": len(samples),
        "errors": sum(result["errors"] for result in rounds),
        "error_samples": [error for result in rounds for error in result["error_samples"]][:5],
        "throughput_per_s": round(len(samples) / seconds, 3) if seconds else 0.0,
        "latency": summarize(samples),
        "cpu_ms_per_request": round(cpu / requests, 2) if requests else None,
        "workers_after": rounds[-1].get("workers_after") if rounds else None,
    }


def _alternate(
    name: str,
    servers: dict[str, tuple[Portal, http.Plan, str | None]],
    options: Options,
    rounds: int,
    log: Log,
) -> dict[str, dict[str, Any]]:
    measured: dict[str, list[dict[str, Any]]] = {side: [] for side in servers}
    for number in range(rounds + 1):  # round 0 warms both up and is not counted
        for side, (portal, scenario, database) in servers.items():
            seconds = options.warmup if number == 0 else options.duration
            result = http.drive(
                portal,
                scenario=scenario,
                duration=seconds,
                warmup=0,
                timeout=PEER_TIMEOUT,
                keep_samples=True,
                database=database,
            )
            if number:
                measured[side].append(result)
            log(
                f"{name} round {number}{' (warm-up)' if not number else ''} {side}: {result['ok']} ok, "
                f"median {result['latency'].get('median_ms')} ms"
            )
    return {side: _pooled(results) for side, results in measured.items()}


def run(options: Options, args: argparse.Namespace, *, log: Log) -> int:
    started = time.perf_counter()
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "machine": machine(),
        "settings": {
            "rounds": args.rounds,
            "round_seconds": args.round_seconds,
            "warmup_round_seconds": args.warmup,
            "workers": options.workers,
            "clients": options.clients,
            "read_clients": options.read_clients,
            "page": PAGE,
        },
    }
    marker = prepare(options, log)
    _flush_redis(options.redis_url)
    results["versions"] = versions(options.redis_url)
    peer_env = peer_environment(args, out)
    log(f"peer: preparing {database_name(args.peer_database_url)} at scale {args.peer_scale}")
    seed_args = ["--scale", args.peer_scale, *(["--reseed"] if args.reseed else [])]
    info = _peer(args, peer_env, "bench.peer.seed", *seed_args)
    results["versions"] |= {f"peer {name}": version for name, version in info["versions"].items()}
    context = http.Context(customers=http.identities(), staff=http.staff_identity(), sources=[])

    log("counting SQL queries per request on both sides (their ticket detail takes a while)")
    ours_counts = {
        "open_ticket": queries.open_queries(context.customers),
        "staff_list": queries.queue_api_queries(context.staff, context.customers[0]["slug"]),
        "ticket_detail": queries.detail_queries(context.customers),
    }
    spec = {
        "admin": ADMIN_USERNAME,
        "token": info["marker"]["token"],
        "open_body": json.loads(_peer_open_bodies(info["marker"]["queues"], random.Random(1))[0]),  # noqa: S311
        "list_path": peer_list_path(),
        "ticket": info["tickets"][0],
    }
    theirs_counts = _peer(args, peer_env, "bench.peer.queries", stdin=json.dumps(spec))
    theirs_counts["open_ticket"] = theirs_counts.pop("open_ticket_api")
    theirs_counts["ticket_detail"] = theirs_counts.pop("ticket_detail_api")
    seed_restore(marker)
    info = _peer(args, peer_env, "bench.peer.seed", "--scale", args.peer_scale)

    comparisons, served = _measure(options, args, context=context, info=info, peer_env=peer_env, log=log)
    results["settings"]["gunicorn"] = served
    for name, side_by_side in comparisons.items():
        side_by_side["ours"] |= {
            "endpoint": ENDPOINTS["ours"][name],
            "queries_per_request": ours_counts[name]["queries_per_request"],
        }
        side_by_side["theirs"] |= {
            "endpoint": ENDPOINTS["theirs"][name],
            "queries_per_request": theirs_counts[name]["queries"],
            "query_status": theirs_counts[name]["status"],
            "sql": theirs_counts[name]["sql"],
        }
        side_by_side["ratios"] = report.ratios(side_by_side)
    seed_restore(marker)
    _peer(args, peer_env, "bench.peer.seed", "--scale", args.peer_scale)

    counts = info["marker"]["counts"]
    results |= {
        "comparisons": comparisons,
        "ours": {
            "scale": options.scale.name,
            "tickets": options.scale.tickets,
            "open_tickets": options.scale.open_tickets,
            "organizations": options.scale.organizations,
            "seed_t0": marker["t0"],
        },
        "peer": {
            "version": info["versions"]["django-helpdesk"],
            "scale": args.peer_scale,
            "tickets": counts["tickets"],
            "open_tickets": counts["open"],
            "followups": counts["followups"],
            "queues": len(info["marker"]["queues"]),
            "seed_t0": info["marker"]["t0"],
            "seeded_in_s": info["marker"].get("seconds"),
        },
        "load_average_after": machine()["load_average"],
        "seconds": round(time.perf_counter() - started, 1),
    }
    json_path, md_path = report.write(results, out)
    sys.stdout.write(report.text_table(report.RATIO_HEADER, report.ratio_rows(comparisons)) + "\n\n")
    sys.stdout.write(report.text_table(report.HEADER, report.side_rows(comparisons)) + "\n")
    sys.stdout.write(f"\nResults: {json_path}\n         {md_path}\n")
    failed = [f"{name} {side}" for name, pair in comparisons.items() for side in report.SIDES if not pair[side]["ok"]]
    return 1 if failed else 0


def _peer_gunicorn(settings: dict[str, str]) -> tuple[str, ...]:
    """The portal's worker class, threads and keep-alive, given to the peer's gunicorn on its command line."""
    names = {"worker_class": "--worker-class", "threads": "--threads", "keepalive": "--keep-alive"}
    return tuple(part for name, option in names.items() if name in settings for part in (option, settings[name]))


def _measure(
    options: Options,
    args: argparse.Namespace,
    *,
    context: http.Context,
    info: dict[str, Any],
    peer_env: dict[str, str],
    log: Log,
) -> tuple[dict[str, Any], dict[str, str]]:
    ours_server = Portal(
        env=portal_environment(options),
        workers=options.workers,
        log_path=options.out_dir / "gunicorn.log",
        cwd=ROOT,
        timeout=PEER_TIMEOUT,
    )
    served = ours_server.settings()
    # Started from the results folder, the peer's gunicorn does not read the portal's gunicorn.conf.py: it gets the
    # same worker class, threads and keep-alive on its command line instead.
    theirs_server = Portal(
        env=peer_env,
        workers=options.workers,
        log_path=options.out_dir / "peer-gunicorn.log",
        cwd=options.out_dir,
        app="bench.peer.wsgi:application",
        gunicorn=args.peer_python.parent / "gunicorn",
        ready_path=PEER_LOGIN,
        timeout=PEER_TIMEOUT,
        extra=_peer_gunicorn(served),
    )
    with ours_server as ours, theirs_server as theirs:
        log(f"gunicorn on both sides: {options.workers} workers, {served}")
        cookie = session_cookie(
            host=HOST, port=theirs.port, login_path=PEER_LOGIN, username=ADMIN_USERNAME, password=SEED_PASSWORD
        )
        our_plans, peer_plans = _our_plans(context, options), _peer_plans(info, cookie, options)
        peer_database = database_name(args.peer_database_url)
        comparisons = {}
        for name in report.COMPARISONS:
            servers: dict[str, tuple[Portal, http.Plan, str | None]] = {
                "ours": (ours, our_plans[name], None),
                "theirs": (theirs, peer_plans[name], peer_database),
            }
            comparisons[name] = _alternate(name, servers, options, args.rounds, log)
    return comparisons, served
