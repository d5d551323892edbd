"""Malformed bodies to every API write and to the alert intake: a clear 4xx in the portal's error shape, never a 500.

The API writes come from the rules of the authorization matrix, so a new endpoint is covered as soon as it has one.
"""

import json

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from monitoring.models import Delivery, InboundEvent
from tests.monitoring.payloads import alertmanager, am_alert
from tests.security.routes import url_routes
from tests.security.rules import Rule, Surface, rule_for
from tests.security.world import ANONYMOUS, MEMBER_A, World

pytestmark = pytest.mark.django_db

DEEP = b"[" * 100_000 + b"]" * 100_000
MALFORMED = {
    "not JSON": (b"{'subject': 'single quotes'", "application/json"),
    "invalid UTF-8": (b'{"subject": "\xff\xfe"}', "application/json"),
    "nested 100,000 deep": (DEEP, "application/json"),
    "a JSON array": (b"[1, 2, 3]", "application/json"),
    "plain text": (b"subject=Hello", "text/plain"),
}


def _api_writes() -> list[tuple[Rule, str, str]]:
    """Every API route and method that reads a request body (its rule gives one)."""
    return [
        (rule, method, route.template)
        for route in url_routes()
        if (rule := rule_for(route.template)) is not None and rule.surface is Surface.API
        for method in rule.payloads
    ]


def _with_nul_characters(data: object) -> object:
    """The same body with a NUL character inside every text value."""
    if isinstance(data, str):
        return f"{data}\u0000"
    if isinstance(data, dict):
        return {key: _with_nul_characters(value) for key, value in data.items()}
    return data


def _shaped(body: object) -> bool:
    return isinstance(body, dict) and set(body) == {"message", "errors"} and isinstance(body["message"], str)


@pytest.mark.parametrize(
    ("rule", "method", "template"), _api_writes(), ids=lambda value: getattr(value, "route", value)
)
def test_every_api_write_refuses_malformed_bodies_with_a_4xx(rule, method, template, caller, world: World):
    route = next(route for route in url_routes() if route.template == template)
    role = sorted(rule.allow[method])[0]
    client = APIClient()
    if role != ANONYMOUS:
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[role]}")
    bodies = dict(MALFORMED)
    valid = rule.payload(method, world)
    if valid.format == "json" or (valid.format is None and isinstance(valid.data, dict)):
        with_nul = _with_nul_characters(valid.data)
        if with_nul != valid.data:
            bodies["a NUL character in each text"] = (json.dumps(with_nul).encode(), "application/json")
    problems = []
    for name, (body, content_type) in bodies.items():
        with transaction.atomic():
            response = getattr(client, method.lower())(caller.path(rule, route), data=body, content_type=content_type)
            transaction.set_rollback(True)
        if not 400 <= response.status_code < 500 or not _shaped(response.json()):
            problems.append(f"{name}: {response.status_code} {response.content[:200]!r}")

    assert not problems, f"{method} {template} as {role}:\n" + "\n".join(problems)


def _intake(world: World) -> str:
    return f"/api/v1/integrations/alertmanager/{world.source_token}/"


def test_a_nul_character_in_an_alert_is_refused_where_it_is(client, world):
    body = json.dumps(alertmanager(am_alert(instance="db-1\u0000")))
    events = InboundEvent.objects.count()

    response = client.post(_intake(world), data=body, content_type="application/json")

    assert response.status_code == 400
    assert [(error["path"], error["code"]) for error in response.json()["errors"]] == [
        ("alerts[0].labels.instance", "nul_character")
    ]
    assert InboundEvent.objects.count() == events


def test_a_body_of_raw_nul_bytes_is_recorded_as_invalid_json(client, world):
    response = client.post(_intake(world), data=b"\x00\x00", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_json"
    assert Delivery.objects.filter(source=world.source).latest("pk").body_excerpt == "\ufffd\ufffd"


def test_an_alert_nested_too_deeply_is_refused(client, world):
    response = client.post(_intake(world), data=DEEP, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "too_deep"


@pytest.mark.parametrize("query", ["page_size=abc", "page=", "page=-1", "page_size=1e3"])
def test_a_page_or_page_size_that_is_not_a_number_is_refused(query, world, api_client):
    response = api_client(world.users[MEMBER_A]).get(f"/api/v1/orgs/acme/tickets/?{query}")

    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [query.split("=")[0]]
