"""Schemathesis against the portal's own OpenAPI schema, in process, as each kind of caller, with real ids of A.

Every operation of /api/schema/ gets generated requests that fit the schema and requests that do not. The checks: no
answer is a server error; answers match the schema (status, content type, body); data that breaks the schema is
refused with a 4xx; an operation that needs a token refuses a caller without one; and every error uses the portal's
shape, {"message", "errors"}.

The run is bounded for `make test` (SECURITY_FUZZ_EXAMPLES requests per operation, mode and role, 4 by default); a
longer run: `SECURITY_FUZZ_EXAMPLES=200 make test PYTEST_ARGS="tests/security/test_schema_fuzz.py"`.
"""

import json
import os
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
)

from tests.security.world import ADMIN_A, ANONYMOUS, ENGINEER, MEMBER_A, SUPPORT_ADMIN

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("SECURITY_FUZZ_EXAMPLES", "4"))
FUZZED_ROLES = (ANONYMOUS, MEMBER_A, ADMIN_A, ENGINEER, SUPPORT_ADMIN)


def _error_shape(ctx, response, case) -> bool | None:
    """Every JSON error, documented or not, is {"message": str, "errors": [{"field" | "path", "code", "detail"}]}."""
    if response.status_code < 400 or "json" not in response.headers.get("content-type", [""])[0]:
        return None
    body = json.loads(response.content)
    shaped = (
        isinstance(body, dict)
        and set(body) == {"message", "errors"}
        and isinstance(body["message"], str)
        and all(
            isinstance(error, dict) and {"code", "detail"} <= set(error) and ({"field", "path"} & set(error))
            for error in body["errors"]
        )
    )
    assert shaped, f"{response.status_code} with an error body outside the portal's shape: {body!r}"
    return True


@pytest.fixture
def wsgi_app() -> Iterator[object]:
    # A real request through WSGIHandler closes "old" database connections when it ends, and that would end the
    # test's transaction; Django's own test client switches this off for the same reason.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _fuzz(operation, mode, *, path_ids, headers, checks, failures: dict[str, str]) -> None:
    """Send generated requests for one operation and mode; record each kind of failure once, with a curl line."""

    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_ids))
    def run(case):
        with transaction.atomic():  # a request that breaks stays in its savepoint
            response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=checks, headers=headers)
            except FailureGroup as group:
                for failure in group.exceptions:
                    key = f"{operation.label} [{mode}] {failure.title}"
                    failures.setdefault(key, f"{failure.message}\n    {case.as_curl_command(headers)}")

    try:
        run()
    except Unsatisfiable:
        # Nothing of the operation can break its schema (no parameters, no body, fixed path): there is no negative data.
        if mode is GenerationMode.POSITIVE:
            raise


@pytest.mark.parametrize("role", FUZZED_ROLES)
def test_the_api_keeps_to_its_schema(role, world, wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    headers = {} if role == ANONYMOUS else {"Authorization": f"Token {world.tokens[role]}"}
    known = world.url_values()
    checks = [
        not_a_server_error,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        negative_data_rejection,
        _error_shape,
    ]
    if role != ANONYMOUS:
        checks.append(ignored_auth)
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # the portal's own schema always loads
        names = operation.path_parameters.schema["properties"]  # type: ignore[union-attr]
        path_ids = {name: known[name] for name in names if name in known}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, path_ids=path_ids, headers=headers, checks=checks, failures=failures)

    assert not failures, "\n".join(f"{key}: {detail}" for key, detail in sorted(failures.items()))


def test_a_new_ticket_is_answered_with_its_running_clocks(world, api_client):
    """Found by the fuzz run: the answer to POST …/tickets/ showed no SLA clocks although they had started."""
    response = api_client(world.users[MEMBER_A]).post(
        "/api/v1/orgs/acme/tickets/", {"subject": "Disk full", "type": "incident", "priority": "P1"}, format="json"
    )

    assert response.status_code == 201
    assert {clock["state"] for clock in response.json()["sla"].values()} == {"running"}
