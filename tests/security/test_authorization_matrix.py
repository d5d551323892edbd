"""Every route × every method × every role, against real objects of organization A, judged by tests/security/rules.py.

For each call: the answer is the one the rule declares; a member of organization B gets the same 404 as for an
organization that does not exist; B's own slug with A's ids answers like B's slug with ids that exist nowhere; and
no refused call, nor any GET, changes a single row (a fingerprint of every table before and after).
"""

import uuid

import pytest
from django.db import transaction

from tests.security.matrix import Caller, expected, judge, normalized_body
from tests.security.routes import Route, url_routes
from tests.security.rules import METHODS, RULES, Rule, rule_for
from tests.security.snapshot import changed_tables, database_fingerprint
from tests.security.world import ADMIN_B, OTHER_TENANT, ROLES

pytestmark = pytest.mark.django_db

MISSING_ORGANIZATION = "no-such-organization"


def _routes_of(rule: Rule) -> list[Route]:
    return [route for route in url_routes() if rule_for(route.template) is rule]


def test_every_route_has_a_rule_and_every_rule_a_route():
    unruled = [route.template for route in url_routes() if rule_for(route.template) is None]
    unused = [rule.route for rule in RULES if not _routes_of(rule)]

    assert not unruled, f"Routes with no rule in tests/security/rules.py (declare who may call them): {unruled}"
    assert not unused, f"Rules that match no route any more: {unused}"


def _call(caller: Caller, rule: Rule, method: str, role: str, path: str, problems: list[str]):
    """One request in a savepoint of its own: a crash is reported and rolled back, never left half-done."""
    try:
        with transaction.atomic():
            return caller.send(rule, method, role, path)
    except Exception as error:  # any crash is a finding to report, not a reason to stop the walk
        problems.append(f"{method} {path} as {role}: raised {error!r}")
        return None


@pytest.mark.parametrize("rule", RULES, ids=[rule.route or "/" for rule in RULES])
def test_each_role_gets_what_the_rule_declares(rule, caller):
    problems: list[str] = []
    unchanging: list[tuple[str, str, str]] = []  # refused calls and GETs: none of them may change a row
    writes: list[tuple[str, str, str]] = []
    for route in _routes_of(rule):
        path = caller.path(rule, route)
        for method in METHODS:
            for role in ROLES:
                allowed_write = expected(rule, method, role).kind in {"allowed", "admitted"} and method != "GET"
                (writes if allowed_write else unchanging).append((method, role, path))

    baseline = database_fingerprint()
    with transaction.atomic():
        for method, role, path in unchanging:
            _check(caller, rule, method, role, path, problems)
        changed = changed_tables(baseline, database_fingerprint())
        transaction.set_rollback(True)
    if changed:
        problems.extend(_who_changed(caller, rule, unchanging))
    for method, role, path in writes:
        with transaction.atomic():
            _check(caller, rule, method, role, path, problems)
            transaction.set_rollback(True)  # the next caller finds the world as it was

    assert not problems, "\n".join(problems)


def _check(caller: Caller, rule: Rule, method: str, role: str, path: str, problems: list[str]) -> None:
    want = expected(rule, method, role)
    response = _call(caller, rule, method, role, path, problems)
    if response is None:
        return
    if not judge(rule, method, want, response):
        where = f" → {response['Location']}" if response.has_header("Location") else ""
        problems.append(f"{method} {path} as {role}: expected {want}, got {response.status_code}{where}")


def _who_changed(caller: Caller, rule: Rule, calls: list[tuple[str, str, str]]) -> list[str]:
    """Run the calls that must change nothing one at a time, to name each one that did."""
    found = []
    for method, role, path in calls:
        with transaction.atomic():
            before = database_fingerprint()
            _call(caller, rule, method, role, path, [])
            changed = changed_tables(before, database_fingerprint())
            transaction.set_rollback(True)
        if changed:
            kind = "a GET" if method == "GET" else "a refused call"
            found.append(f"{method} {path} as {role} is {kind} and changed {changed}")
    return found or ["The refused calls and GETs changed the database together, but none alone did."]


TENANT_RULES = [rule for rule in RULES if "<slug:org_slug>" in rule.route]


@pytest.mark.parametrize("rule", TENANT_RULES, ids=[rule.route for rule in TENANT_RULES])
def test_another_tenant_learns_nothing_from_organization_a(rule, caller, world):
    """B's members get the same 404 for A's slug as for a slug nobody has; under B's own slug, A's ids answer exactly
    like ids that exist nowhere."""
    problems = []
    for route in _routes_of(rule):
        for method in METHODS:
            for role in OTHER_TENANT:
                with transaction.atomic():
                    foreign = caller.send(rule, method, role, caller.path(rule, route))
                    missing = caller.send(
                        rule, method, role, caller.path(rule, route, organization_slug=MISSING_ORGANIZATION)
                    )
                    transaction.set_rollback(True)
                if foreign.status_code != 404 or normalized_body(foreign) != normalized_body(missing):
                    problems.append(f"{method} {route.template} as {role}: A's slug answers unlike a missing one")
            object_ids = [name for name in route.parameters if f"<uuid:{name}>" in route.template]
            if not object_ids:
                continue
            own_slug = world.other_organization.slug
            nowhere = {name: str(uuid.uuid4()) for name in object_ids}
            with transaction.atomic():
                a_ids = caller.send(rule, method, ADMIN_B, caller.path(rule, route, organization_slug=own_slug))
                random_ids = caller.send(
                    rule, method, ADMIN_B, caller.path(rule, route, organization_slug=own_slug, **nowhere)
                )
                transaction.set_rollback(True)
            same = (a_ids.status_code, normalized_body(a_ids)) == (random_ids.status_code, normalized_body(random_ids))
            if not same or a_ids.status_code < 400:
                problems.append(
                    f"{method} {route.template} as {ADMIN_B} under its own slug: A's ids answer "
                    f"{a_ids.status_code}, ids of nothing {random_ids.status_code}"
                )

    assert not problems, "\n".join(problems)
