"""Opening tickets, the ticket list and the ticket detail through the API, driven from a separate process."""

import json
import os
import subprocess
import sys
from typing import Any

from django.db import connection

from bench.config import ROOT
from bench.procinfo import cpu_snapshot, cpu_used
from bench.server import HOST, Portal

IDENTITIES = 16  # organizations whose admins the clients act as, spread over the size distribution
TICKETS_PER_IDENTITY = 100


def identities(*, count: int = IDENTITIES) -> list[dict[str, Any]]:
    """Customer admins of organizations from the smallest to the largest, with their API token and some tickets."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT o.id, o.slug, k.package, t.key, c.last_number
            FROM tenancy_organization o
            JOIN tickets_ticketcounter c ON c.organization_id = o.id
            JOIN tenancy_contract k ON k.organization_id = o.id AND k.effective_to IS NULL
            JOIN tenancy_membership m ON m.organization_id = o.id AND m.role = 'admin'
            JOIN authtoken_token t ON t.user_id = m.user_id
            ORDER BY c.last_number, o.id
            """
        )
        rows = cursor.fetchall()
        if not rows:
            raise RuntimeError("The bench database has no organizations with an admin token: reseed (--reseed).")
        step = max(1, len(rows) // count)
        chosen = rows[::-1][::step][:count]  # always includes the largest organization
        found = []
        for org_id, slug, package, token, size in chosen:
            cursor.execute(
                "SELECT public_id FROM tickets_ticket WHERE organization_id = %s ORDER BY random() LIMIT %s",
                [org_id, TICKETS_PER_IDENTITY],
            )
            tickets = [str(row[0]) for row in cursor.fetchall()]
            found.append({"slug": slug, "package": package, "token": token, "tickets": tickets, "size": size})
    return found


def drive(
    portal: Portal,
    *,
    scenario: str,
    clients: int,
    duration: float,
    warmup: float,
    people: list[dict[str, Any]],
) -> dict[str, Any]:
    spec = {
        "host": HOST,
        "port": portal.port,
        "scenario": scenario,
        "clients": clients,
        "duration": duration,
        "warmup": warmup,
        "identities": people,
        "seed": 7,
    }
    web_before, db_before = cpu_snapshot(portal.worker_pids()), cpu_snapshot(_database_backends())
    completed = subprocess.run(
        [sys.executable, "-m", "bench.driver"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=warmup + duration + 120,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the load driver failed ({completed.returncode}): {completed.stderr[-2000:]}")
    web = cpu_used(web_before, cpu_snapshot(portal.worker_pids()))
    db = cpu_used(db_before, cpu_snapshot(_database_backends()))
    result: dict[str, Any] = json.loads(completed.stdout)
    result["workers_after"] = portal.memory()
    requests = result["requests_including_warmup"]
    if requests:
        # CPU per request does not depend on what else the machine is doing, unlike latency and throughput.
        per_request = {"web_ms": 1000 * web / requests, "database_ms": 1000 * db / requests}
        per_request["total_ms"] = per_request["web_ms"] + per_request["database_ms"]
        result["cpu_per_request"] = {key: round(value, 2) for key, value in per_request.items()}
        result["cpu_bound_capacity_per_s"] = round(1000 * (os.cpu_count() or 1) / per_request["total_ms"], 1)
    return result


def _database_backends() -> list[int]:
    """PostgreSQL backends serving the bench database, other than this process's own connection.

    Read from /proc when PostgreSQL runs on this machine (as here); elsewhere nothing is found and the figure is 0.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [int(row[0]) for row in cursor.fetchall()]
