"""SQL queries per request, counted in the bench process against the bench database.

Each request goes through the whole Django stack (middleware, token authentication, the tenant base, the view) with
DRF's test client, under `CaptureQueriesContext`. A list is asked for at several page sizes and a detail for tickets
with short and long conversations, so a count that grows with the page or the conversation shows up as such.
"""

from typing import Any

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

SQL_PREVIEW = 200


class QueryCounter:
    """An execute wrapper that only counts: cheap enough to leave on while timing."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def _call(client: APIClient, token: str, method: str, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    with CaptureQueriesContext(connection) as captured:
        if method == "POST":
            response = client.post(path, data, format="json", HTTP_AUTHORIZATION=f"Token {token}")
        else:
            response = client.get(path, HTTP_AUTHORIZATION=f"Token {token}")
    return {
        "path": path,
        "status": response.status_code,
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
