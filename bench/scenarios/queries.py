"""SQL queries per request, counted in the bench process against the bench database.

Each request goes through the whole Django stack (middleware, token authentication, the tenant base, the view) with
DRF's test client, under `CaptureQueriesContext`. A list is asked for at several page sizes and a detail for tickets
with short and long conversations, so a count that grows with the page or the conversation shows up as such.
"""

from typing import Any
from urllib.parse import urlencode

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from bench.alerts import delivery
from bench.driver import padding_body
from bench.scenarios.http import OVERSIZED_BODY, queue_filters
from tenancy.models import User
from tenancy.selectors import api_token_get
from tenancy.services import api_token_used
from tickets.queue import queue_version

SQL_PREVIEW = 200
PAGE_SIZES = (10, 50, 200)


class QueryCounter:
    """An execute wrapper that only counts: cheap enough to leave on while timing."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def _call(client: APIClient, token: str, method: str, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    # A token's first request in an hour also records its use (one UPDATE): bookkeeping, not what the request costs
    # the other requests of that hour, so it is done before counting, or the first call counted looks like growth.
    api_token_used(token=api_token_get(token=token), now=timezone.now())
    with CaptureQueriesContext(connection) as captured:
        if method == "POST":
            response = client.post(path, data, format="json", HTTP_AUTHORIZATION=f"Token {token}")
        else:
            response = client.get(path, HTTP_AUTHORIZATION=f"Token {token}")
    return _captured(path, response.status_code, captured)


def _page(client: Client, path: str) -> dict[str, Any]:
    """A request as a signed-in browser makes it (the session, the user, the page)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers={"Accept": "text/html"})
    return _captured(path, response.status_code, captured)


def _post_raw(path: str, body: bytes) -> dict[str, Any]:
    with CaptureQueriesContext(connection) as captured:
        response = Client().generic("POST", path, body, content_type="application/json")
    return _captured(path, response.status_code, captured)


def _signed_in(email: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


def _captured(path: str, status: int, captured: CaptureQueriesContext) -> dict[str, Any]:
    return {
        "path": path,
        "status": status,
        "queries": len(captured.captured_queries),
        "sql": [query["sql"][:SQL_PREVIEW] for query in captured.captured_queries],
        "_full_sql": [query["sql"] for query in captured.captured_queries],
    }


def explain(sql_statements: list[str]) -> list[dict[str, Any]]:
    """EXPLAIN ANALYZE each SELECT (rolled back, so locking reads leave nothing behind)."""
    plans = []
    for sql in sql_statements:
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            lines = [row[0] for row in cursor.fetchall()]
            transaction.set_rollback(True)
        plans.append({"sql": sql[:SQL_PREVIEW], "plan": lines})
    return plans


def _ticket_with_longest_conversation(org_id: int) -> tuple[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT t.public_id, count(m.id) FROM tickets_ticket t LEFT JOIN tickets_message m ON m.ticket_id = t.id
               WHERE t.organization_id = %s GROUP BY t.id ORDER BY count(m.id) DESC, t.id LIMIT 1""",
            [org_id],
        )
        row = cursor.fetchone()
    assert row is not None
    return str(row[0]), int(row[1])


def _ticket_without_messages(org_id: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT t.public_id FROM tickets_ticket t WHERE t.organization_id = %s
               AND NOT EXISTS (SELECT 1 FROM tickets_message m WHERE m.ticket_id = t.id) ORDER BY t.id LIMIT 1""",
            [org_id],
        )
        row = cursor.fetchone()
    return str(row[0]) if row else None


def _org_id(slug: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM tenancy_organization WHERE slug = %s", [slug])
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def _strip(call: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in call.items() if not key.startswith("_")}


def list_queries(people: list[dict[str, Any]]) -> dict[str, Any]:
    client = APIClient()
    largest, smallest = people[0], people[-1]
    base = f"/api/v1/orgs/{largest['slug']}/tickets/"
    calls = {
        "default page, largest organization": _call(client, largest["token"], "GET", base),
        "page_size=10": _call(client, largest["token"], "GET", f"{base}?page_size=10"),
        "page_size=200": _call(client, largest["token"], "GET", f"{base}?page_size=200"),
        "page 3": _call(client, largest["token"], "GET", f"{base}?page=3"),
        "status=open": _call(client, largest["token"], "GET", f"{base}?status=open"),
        "default page, smallest organization": _call(
            client, smallest["token"], "GET", f"/api/v1/orgs/{smallest['slug']}/tickets/"
        ),
    }
    counts = [call["queries"] for call in calls.values()]
    return {
        "queries_per_request": calls["default page, largest organization"]["queries"],
        "max_queries": max(counts),
        "constant": len(set(counts)) == 1,
        "requests": {name: _strip(call) for name, call in calls.items()},
        "plans": explain(calls["default page, largest organization"]["_full_sql"]),
    }


def detail_queries(people: list[dict[str, Any]]) -> dict[str, Any]:
    client = APIClient()
    largest = people[0]
    org_id = _org_id(largest["slug"])
    longest, messages = _ticket_with_longest_conversation(org_id)
    base = f"/api/v1/orgs/{largest['slug']}/tickets/"
    calls = {f"ticket with {messages} messages": _call(client, largest["token"], "GET", f"{base}{longest}/")}
    if quiet := _ticket_without_messages(org_id):
        calls["ticket without messages"] = _call(client, largest["token"], "GET", f"{base}{quiet}/")
    calls["random ticket"] = _call(client, largest["token"], "GET", f"{base}{largest['tickets'][0]}/")
    counts = [call["queries"] for call in calls.values()]
    return {
        "queries_per_request": calls["random ticket"]["queries"],
        "max_queries": max(counts),
        "constant": len(set(counts)) == 1,
        "requests": {name: _strip(call) for name, call in calls.items()},
        "plans": explain(calls["random ticket"]["_full_sql"]),
    }


def open_queries(people: list[dict[str, Any]]) -> dict[str, Any]:
    client = APIClient()
    person = people[len(people) // 2]
    body = {"subject": "Query count probe", "description": "Counting queries.", "type": "incident", "priority": "P2"}
    call = _call(client, person["token"], "POST", f"/api/v1/orgs/{person['slug']}/tickets/", body)
    return {"queries_per_request": call["queries"], "requests": {"open a ticket": _strip(call)}}


def _summary(calls: dict[str, dict[str, Any]], main: str, *, constant_over: list[str] | None = None) -> dict[str, Any]:
    """`constant`: the same count for every call (or for those named in `constant_over`, the ones that differ only in
    how much data they show)."""
    counts = [call["queries"] for call in calls.values()]
    compared = {calls[name]["queries"] for name in constant_over or calls}
    return {
        "queries_per_request": calls[main]["queries"],
        "max_queries": max(counts),
        "constant": len(compared) == 1,
        "requests": {name: _strip(call) for name, call in calls.items()},
    }


def html_list_queries(people: list[dict[str, Any]]) -> dict[str, Any]:
    largest, smallest = people[0], people[-1]
    base = f"/o/{largest['slug']}/tickets/"
    client = _signed_in(largest["email"])
    calls = {
        "first page, largest organization": _page(client, base),
        "page 3": _page(client, f"{base}?page=3"),
        "status=open": _page(client, f"{base}?status=open"),
        "first page, smallest organization": _page(_signed_in(smallest["email"]), f"/o/{smallest['slug']}/tickets/"),
    }
    return _summary(calls, "first page, largest organization")


def html_detail_queries(people: list[dict[str, Any]]) -> dict[str, Any]:
    largest = people[0]
    org_id = _org_id(largest["slug"])
    longest, messages = _ticket_with_longest_conversation(org_id)
    base = f"/o/{largest['slug']}/tickets/"
    client = _signed_in(largest["email"])
    calls = {f"ticket with {messages} messages": _page(client, f"{base}{longest}/")}
    if quiet := _ticket_without_messages(org_id):
        calls["ticket without messages"] = _page(client, f"{base}{quiet}/")
    calls["random ticket"] = _page(client, f"{base}{largest['tickets'][0]}/")
    # A ticket without messages may skip the conversation's related reads; a long one must not cost more.
    return _summary(calls, "random ticket", constant_over=[next(iter(calls)), "random ticket"])


def queue_api_queries(staff: dict[str, Any], largest_slug: str) -> dict[str, Any]:
    """Every filter at three page sizes: a count that grows with the page shows up as not constant."""
    client = APIClient()
    calls: dict[str, dict[str, Any]] = {}
    per_filter: dict[str, dict[str, Any]] = {}
    for label, query in queue_filters(largest_slug).items():
        sized = {
            size: _call(client, staff["token"], "GET", f"/api/v1/queue/?{_joined(query, page_size=size)}")
            for size in PAGE_SIZES
        }
        counts = [call["queries"] for call in sized.values()]
        per_filter[label] = {"queries": counts[1], "constant": len(set(counts)) == 1, "status": sized[50]["status"]}
        calls[label] = sized[50]
    return {
        "queries_per_request": calls["first page"]["queries"],
        "max_queries": max(entry["queries"] for entry in per_filter.values()),
        "constant": all(entry["constant"] for entry in per_filter.values()),
        "filters": per_filter,
        "requests": {name: _strip(call) for name, call in calls.items()},
        "plans": explain(calls["first page"]["_full_sql"]),
    }


def queue_html_queries(staff: dict[str, Any], largest_slug: str) -> dict[str, Any]:
    """The page with every filter, and pages 2 and 3. The counts at a glance are kept for everyone and counted again
    by a worker (tickets.queue_counts): the first request here, on an empty cache, counts them; the others read them."""
    client = _signed_in(staff["email"])
    filters = {
        label: _page(client, f"/staff/queue/?{query}" if query else "/staff/queue/")
        for label, query in queue_filters(largest_slug).items()
    }
    calls = {
        "first page, counts computed": filters["first page"],
        "first page, counts cached": _page(client, "/staff/queue/"),
        "page 2": _page(client, "/staff/queue/?page=2"),
        "page 3": _page(client, "/staff/queue/?page=3"),
    }
    summary = _summary(
        calls, "first page, counts cached", constant_over=["first page, counts cached", "page 2", "page 3"]
    )
    summary["max_queries"] = max(summary["max_queries"], *(call["queries"] for call in filters.values()))
    summary["filters"] = {
        label: {"queries": call["queries"], "status": call["status"]} for label, call in filters.items()
    }
    return summary


def queue_refresh_queries(staff: dict[str, Any]) -> dict[str, Any]:
    client = _signed_in(staff["email"])
    version = queue_version()
    calls = {
        "nothing changed (204)": _page(client, f"/staff/queue/rows/?{urlencode({'since': version})}"),
        "changed (rows)": _page(client, "/staff/queue/rows/?since=stale"),
    }
    summary = _summary(calls, "nothing changed (204)")
    summary["version"] = version
    return summary


def intake_queries(source: dict[str, Any], *, now: Any) -> dict[str, Any]:
    path = f"/api/v1/integrations/alertmanager/{source['token']}/"
    calls = {
        "delivery of 100 alerts": _post_raw(path, delivery(slug=source["slug"], keys=100, now=now).encode()),
        "5 MiB body": _post_raw(path, padding_body(OVERSIZED_BODY)),
    }
    return _summary(calls, "delivery of 100 alerts")


def _joined(query: str, **extra: Any) -> str:
    return "&".join(part for part in (query, urlencode(extra)) if part)
