"""The HTTP scenarios: who the clients act as, the requests each scenario issues, and one driven run of them.

Requests are prepared here (paths, headers, bodies) and handed to `bench.driver`, a separate process that issues them
against gunicorn; the CPU the gunicorn workers and their PostgreSQL backends used meanwhile is read from /proc.
"""

import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db import connection
from django.utils import timezone

from bench.alerts import delivery
from bench.config import ROOT, api_token, source_token
from bench.procinfo import cpu_snapshot, cpu_used
from bench.server import HOST, Portal
from monitoring.models import Kind, MonitoringSource
from tenancy.models import User

IDENTITIES = 16  # organizations whose admins the clients act as, spread over the size distribution
HTML_IDENTITIES = 4  # customers signed in with a session for the HTML pages (each sign-in hashes a password)
TICKETS_PER_IDENTITY = 100
BODIES_PER_IDENTITY = 8
DELIVERIES_PER_SOURCE = 4
OVERSIZED_BODY = 5 * 1024 * 1024
SUBJECTS = (
    "Checkout returns 502 for some customers",
    "Nightly backup job did not finish",
    "Latency spike on the search service",
    "How do we rotate the API keys safely?",
    "Disk usage on the log volume at 91 %",
)
TYPES = {
    "standard": ("question", "incident", "change_request"),
    "premium": ("question", "incident", "change_request", "architecture_review", "deployment_planning"),
}
JSON = "application/json"
HTML = "text/html"


@dataclass
class Context:
    """Everyone the HTTP scenarios act as; sessions are added once the server runs (they sign in through it)."""

    customers: list[dict[str, Any]]
    staff: dict[str, Any]
    sources: list[dict[str, Any]]
    customer_cookies: dict[str, str] = field(default_factory=dict)  # slug -> Cookie header
    staff_cookie: str = ""
    queue_version: str = ""


@dataclass
class Plan:
    requests: list[dict[str, Any]]
    clients: int
    expect: list[int] = field(default_factory=lambda: list(range(200, 300)))
    units_per_request: int = 1  # alerts per delivery for the intake
    duration_factor: float = 1.0


def identities(*, count: int = IDENTITIES) -> list[dict[str, Any]]:
    """Customer admins of organizations from the smallest to the largest, with their API token and some tickets."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT o.id, o.slug, k.package, c.last_number, u.email
            FROM tenancy_organization o
            JOIN tickets_ticketcounter c ON c.organization_id = o.id
            JOIN tenancy_contract k ON k.organization_id = o.id AND k.effective_to IS NULL
            JOIN tenancy_membership m ON m.organization_id = o.id AND m.role = 'admin'
            JOIN tenancy_user u ON u.id = m.user_id
            WHERE EXISTS (SELECT 1 FROM tenancy_apitoken t WHERE t.user_id = m.user_id)
            ORDER BY c.last_number, o.id
            """
        )
        rows = cursor.fetchall()
        if not rows:
            raise RuntimeError("The bench database has no organizations with an admin token: reseed (--reseed).")
        step = max(1, len(rows) // count)
        chosen = rows[::-1][::step][:count]  # always includes the largest organization
        found = []
        for org_id, slug, package, size, email in chosen:
            cursor.execute(
                "SELECT public_id FROM tickets_ticket WHERE organization_id = %s ORDER BY random() LIMIT %s",
                [org_id, TICKETS_PER_IDENTITY],
            )
            tickets = [str(row[0]) for row in cursor.fetchall()]
            found.append(
                {
                    "slug": slug,
                    "package": package,
                    "token": api_token(email),
                    "tickets": tickets,
                    "size": size,
                    "email": email,
                }
            )
    return found


def staff_identity() -> dict[str, Any]:
    """An engineer on duty with an API token (the seed gives every engineer one)."""
    engineer = (
        User.objects.filter(staff_role=User.StaffRole.SUPPORT_ENGINEER, on_duty=True, api_tokens__isnull=False)
        .distinct()
        .order_by("pk")
        .first()
    )
    if engineer is None:
        raise RuntimeError("The bench database has no engineer with an API token: reseed (--reseed).")
    return {"pk": engineer.pk, "email": engineer.email, "token": api_token(engineer.email)}


def alert_sources() -> list[dict[str, Any]]:
    """The seeded Alertmanager sources (one per Premium organization) with their intake tokens."""
    sources = (
        MonitoringSource.objects.filter(kind=Kind.ALERTMANAGER, enabled=True)
        .select_related("organization")
        .order_by("pk")
    )
    return [
        {
            "slug": source.organization.slug,
            "token": source_token(source.organization.slug),
            "organization_id": source.organization_id,
        }
        for source in sources
    ]


def _api(token: str, method: str, path: str, body: str | None = None, label: str = "") -> dict[str, Any]:
    headers = {"Authorization": f"Token {token}", "Accept": JSON}
    if body is not None:
        headers["Content-Type"] = JSON
    return {"label": label, "method": method, "path": path, "headers": headers, "body": body}


def _page(cookie: str, path: str, label: str = "") -> dict[str, Any]:
    return {"label": label, "method": "GET", "path": path, "headers": {"Cookie": cookie, "Accept": HTML}}


def _open_bodies(package: str, rng: random.Random) -> list[str]:
    return [
        json.dumps(
            {
                "subject": rng.choice(SUBJECTS),
                "description": "Since 09:40 UTC every **checkout** request fails.\n\nNothing changed on our side.",
                "type": rng.choice(TYPES[package]),
                "priority": rng.choice(("P1", "P2", "P3", "P3", "P4")),
            }
        )
        for _ in range(BODIES_PER_IDENTITY)
    ]


def queue_filters(largest_slug: str) -> dict[str, str]:
    """Every filter, view and order of the engineers' queue (docs/queue.md), each as its query string."""
    filters = {
        "first page": {},
        "organization": {"organization": largest_slug},
        "package=premium": {"package": "premium"},
        "package=standard": {"package": "standard"},
        "region=US": {"region": "US"},
        "region=EU": {"region": "EU"},
        "priority=P1": {"priority": "P1"},
        "type=incident": {"type": "incident"},
        "status=new": {"status": "new"},
        "status=waiting_on_customer": {"status": "waiting_on_customer"},
        "assignee=me": {"assignee": "me"},
        "assignee=unassigned": {"assignee": "unassigned"},
        "assignee=anyone": {"assignee": "anyone"},
        "source=portal": {"source": "portal"},
        "source=monitoring": {"source": "monitoring"},
        "view=at_risk": {"view": "at_risk"},
        "view=breached": {"view": "breached"},
        "sort=due": {"sort": "due"},
        "sort=updated": {"sort": "updated"},
    }
    return {label: urlencode(query) for label, query in filters.items()}


def _with_query(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path


def _ticket_list_api(context: Context, clients: int, rng: random.Random) -> Plan:
    return Plan([_api(p["token"], "GET", f"/api/v1/orgs/{p['slug']}/tickets/") for p in context.customers], clients)


def _ticket_detail_api(context: Context, clients: int, rng: random.Random) -> Plan:
    requests = [
        _api(p["token"], "GET", f"/api/v1/orgs/{p['slug']}/tickets/{ticket}/")
        for p in context.customers
        for ticket in p["tickets"]
    ]
    return Plan(requests, clients)


def _open_ticket_api(context: Context, clients: int, rng: random.Random) -> Plan:
    requests = [
        _api(p["token"], "POST", f"/api/v1/orgs/{p['slug']}/tickets/", body)
        for p in context.customers
        for body in _open_bodies(p["package"], rng)
    ]
    return Plan(requests, clients)


def _signed_in_customers(context: Context) -> list[dict[str, Any]]:
    return [person for person in context.customers if person["slug"] in context.customer_cookies]


def _ticket_list_html(context: Context, clients: int, rng: random.Random) -> Plan:
    cookies = context.customer_cookies
    return Plan([_page(cookies[p["slug"]], f"/o/{p['slug']}/tickets/") for p in _signed_in_customers(context)], clients)


def _ticket_detail_html(context: Context, clients: int, rng: random.Random) -> Plan:
    requests = [
        _page(context.customer_cookies[p["slug"]], f"/o/{p['slug']}/tickets/{ticket}/")
        for p in _signed_in_customers(context)
        for ticket in p["tickets"]
    ]
    return Plan(requests, clients)


def _queue_html(context: Context, clients: int, rng: random.Random) -> Plan:
    return Plan([_page(context.staff_cookie, "/staff/queue/")], clients)


def _queue_api(context: Context, clients: int, rng: random.Random) -> Plan:
    return Plan([_api(context.staff["token"], "GET", "/api/v1/queue/")], clients)


def _queue_filters_api(context: Context, clients: int, rng: random.Random) -> Plan:
    requests = [
        _api(context.staff["token"], "GET", f"/api/v1/queue/?{query}" if query else "/api/v1/queue/", label=label)
        for label, query in queue_filters(context.customers[0]["slug"]).items()
    ]
    return Plan(requests, clients, duration_factor=2.0)


def _queue_refresh_unchanged(context: Context, clients: int, rng: random.Random) -> Plan:
    path = f"/staff/queue/rows/?{urlencode({'since': context.queue_version})}"
    return Plan([_page(context.staff_cookie, path)], clients, expect=[204])


def _intake_path(source: dict[str, Any]) -> str:
    return f"/api/v1/integrations/alertmanager/{source['token']}/"


def _alert_intake(context: Context, clients: int, rng: random.Random) -> Plan:
    now = timezone.now()
    requests = [
        # Monitoring systems send no credentials: the token in the URL names the source.
        {
            "label": "",
            "method": "POST",
            "path": _intake_path(source),
            "headers": {"Content-Type": JSON},
            "body": delivery(slug=source["slug"], keys=100, now=now, offset=n * 25),
        }
        for source in context.sources
        for n in range(DELIVERIES_PER_SOURCE)
    ]
    return Plan(requests, clients, expect=[202], units_per_request=100)


def _alert_intake_5mib_refused(context: Context, clients: int, rng: random.Random) -> Plan:
    request = {
        "method": "POST",
        "path": _intake_path(context.sources[0]),
        "headers": {"Content-Type": JSON},
        "body_bytes": OVERSIZED_BODY,
    }
    return Plan([request], 1, expect=[413], duration_factor=0.5)


_READS = {
    "ticket_list_api": _ticket_list_api,
    "ticket_detail_api": _ticket_detail_api,
    "ticket_list_html": _ticket_list_html,
    "ticket_detail_html": _ticket_detail_html,
    "queue_html": _queue_html,
    "queue_api": _queue_api,
    "queue_filters_api": _queue_filters_api,
    "queue_refresh_unchanged": _queue_refresh_unchanged,
}
_WRITES = {
    "open_ticket_api": _open_ticket_api,
    "alert_intake": _alert_intake,
    "alert_intake_5mib_refused": _alert_intake_5mib_refused,
}
NAMES = (*_READS, *_WRITES)


def plan(name: str, context: Context, *, clients: int, read_clients: int) -> Plan:
    """The requests of one HTTP scenario and how many clients issue them: readers one per gunicorn worker."""
    rng = random.Random(7)  # noqa: S311 (request mix, not secrets)
    if name in _READS:
        return _READS[name](context, read_clients, rng)
    return _WRITES[name](context, clients, rng)


def drive(
    portal: Portal,
    *,
    scenario: Plan,
    duration: float,
    warmup: float,
    timeout: float = 60,
    keep_samples: bool = False,
    database: str | None = None,
) -> dict[str, Any]:
    """Run the driver once against `portal`; `database` names the one its workers use (the bench's by default)."""
    spec: dict[str, Any] = {
        "host": HOST,
        "port": portal.port,
        "clients": scenario.clients,
        "duration": duration * scenario.duration_factor,
        "warmup": warmup,
        "requests": scenario.requests,
        "expect": scenario.expect,
        "timeout": timeout,
        "keep_samples": keep_samples,
        "seed": 7,
    }
    web_before, db_before = cpu_snapshot(portal.worker_pids()), cpu_snapshot(database_backends(database))
    completed = subprocess.run(
        [sys.executable, "-m", "bench.driver"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=warmup + spec["duration"] + timeout + 120,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the load driver failed ({completed.returncode}): {completed.stderr[-2000:]}")
    web = cpu_used(web_before, cpu_snapshot(portal.worker_pids()))
    db = cpu_used(db_before, cpu_snapshot(database_backends(database)))
    result: dict[str, Any] = json.loads(completed.stdout)
    result["workers_after"] = portal.memory()
    if scenario.units_per_request > 1:
        result["units_per_request"] = scenario.units_per_request
        result["units_per_s"] = round(result["throughput_per_s"] * scenario.units_per_request, 1)
    requests = result["requests_including_warmup"]
    if requests:
        # CPU per request does not depend on what else the machine is doing, unlike latency and throughput.
        per_request = {"web_ms": 1000 * web / requests, "database_ms": 1000 * db / requests}
        per_request["total_ms"] = per_request["web_ms"] + per_request["database_ms"]
        result["cpu_per_request"] = {key: round(value, 2) for key, value in per_request.items()}
        result["cpu_bound_capacity_per_s"] = round(1000 * (os.cpu_count() or 1) / per_request["total_ms"], 1)
    return result


def database_backends(database: str | None = None) -> list[int]:
    """PostgreSQL backends serving a database (the bench's by default), other than this process's own connection.

    Read from /proc when PostgreSQL runs on this machine (as here); elsewhere nothing is found and the figure is 0.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = COALESCE(%s, current_database()) "
            "AND pid <> pg_backend_pid()",
            [database],
        )
        return [int(row[0]) for row in cursor.fetchall()]
