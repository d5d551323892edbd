"""The soak's mixed workload as one request pool for `bench.driver`: each request carries its kind as its label.

A kind's weight is how many entries it has in every round of the pool, so the driver's shuffled rounds follow the mix:
customers reading far more than they write, engineers polling the queue and replying, alerts arriving steadily. Who
acts and on what is gathered from the database by `bench.soak_run`; every kind answers 2xx when all is well.
"""

import json
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bench.alerts import delivery
from bench.scenarios.http import SUBJECTS, TYPES

WEIGHTS = {
    "customer_ticket_list": 4,
    "customer_ticket_detail": 4,
    "customer_ticket_list_html": 1,
    "customer_open_ticket": 2,
    "engineer_queue": 3,
    "engineer_queue_html": 1,
    "engineer_reply": 2,
    "alert_intake": 1,
}
# The benchmark scenario whose target applies to a kind (docs/performance.md); the others have none of their own.
BENCH_SCENARIO = {
    "customer_ticket_list": "ticket_list_api",
    "customer_ticket_detail": "ticket_detail_api",
    "customer_ticket_list_html": "ticket_list_html",
    "customer_open_ticket": "open_ticket_api",
    "engineer_queue": "queue_api",
    "engineer_queue_html": "queue_html",
    "alert_intake": "alert_intake",
}
ALERTS_PER_DELIVERY = 10
ALERT_KEYS = 20  # distinct alerts per source: most deliveries repeat alerts already open
ROUNDS = 30  # rounds of the mix in the pool: enough variety of people, tickets and bodies


@dataclass
class People:
    customers: list[dict[str, Any]]  # slug, package, token, tickets (seeded), email
    staff: dict[str, Any]  # an engineer on duty: token
    sources: list[dict[str, Any]]  # slug, token of each seeded Alertmanager source
    tickets_to_work: list[tuple[str, str]]  # (slug, ticket id) opened for the run, for engineers to reply to
    customer_cookies: dict[str, str] = field(default_factory=dict)  # slug -> Cookie header
    staff_cookie: str = ""


def _api(label: str, token: str, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    encoded = json.dumps(body) if body is not None else None
    return {"label": label, "method": method, "path": path, "headers": headers, "body": encoded}


def _page(label: str, cookie: str, path: str) -> dict[str, Any]:
    return {"label": label, "method": "GET", "path": path, "headers": {"Cookie": cookie, "Accept": "text/html"}}


def _one(kind: str, people: People, rng: random.Random, now: datetime) -> dict[str, Any]:  # noqa: PLR0911
    customer = rng.choice(people.customers)
    tickets = f"/api/v1/orgs/{customer['slug']}/tickets/"
    if kind == "customer_ticket_list":
        return _api(kind, customer["token"], "GET", tickets)
    if kind == "customer_ticket_detail":
        return _api(kind, customer["token"], "GET", f"{tickets}{rng.choice(customer['tickets'])}/")
    if kind == "customer_ticket_list_html":
        slug = rng.choice(sorted(people.customer_cookies))
        return _page(kind, people.customer_cookies[slug], f"/o/{slug}/tickets/")
    if kind == "customer_open_ticket":
        body = {
            "subject": rng.choice(SUBJECTS),
            "description": "Since 09:40 UTC every **checkout** request fails.\n\nNothing changed on our side.",
            "type": rng.choice(TYPES[customer["package"]]),
            "priority": rng.choice(("P1", "P2", "P3", "P3", "P4")),
        }
        return _api(kind, customer["token"], "POST", tickets, body)
    if kind == "engineer_queue":
        return _api(kind, people.staff["token"], "GET", "/api/v1/queue/")
    if kind == "engineer_queue_html":
        return _page(kind, people.staff_cookie, "/staff/queue/")
    if kind == "engineer_reply":
        slug, ticket = rng.choice(people.tickets_to_work)
        body = {"body": "We are looking into it: the load balancer's health checks fail on two nodes."}
        return _api(kind, people.staff["token"], "POST", f"/api/v1/orgs/{slug}/tickets/{ticket}/messages/", body)
    if kind == "alert_intake":
        source = rng.choice(people.sources)
        return {
            "label": kind,
            "method": "POST",
            "path": f"/api/v1/integrations/alertmanager/{source['token']}/",
            "headers": {"Content-Type": "application/json"},
            "body": delivery(
                slug=source["slug"], keys=ALERT_KEYS, now=now, size=ALERTS_PER_DELIVERY, offset=rng.randrange(100)
            ),
        }
    raise ValueError(f"unknown kind {kind}")


def request_pool(people: People, *, now: datetime, seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 (request mix, not secrets)
    kinds = [kind for kind, weight in WEIGHTS.items() for _ in range(weight)]
    return [_one(kind, people, rng, now) for _ in range(ROUNDS) for kind in kinds]
