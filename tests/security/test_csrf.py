"""CSRF on every state-changing request a browser's cookies could carry, generated from the routes and their rules.

For each route and unsafe method some role may use, that role, signed in with a session cookie, is refused (403) and
changes nothing without the CSRF token, and gets its ordinary answer with it: the token, not something else, is what
decides. The API is included: called with the session cookie instead of a token, it demands CSRF too. The routes
that need no token say why in their rule.
"""

import pytest
from django.conf import settings
from django.db import transaction
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils.crypto import get_random_string
from rest_framework.test import APIClient

from tests.security.matrix import Caller, expected, judge
from tests.security.routes import url_routes
from tests.security.rules import RULES, Rule, Surface, rule_for
from tests.security.snapshot import changed_tables, database_fingerprint
from tests.security.world import ANONYMOUS, SUPPORT_ADMIN

pytestmark = pytest.mark.django_db

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
RULES_WITH_WRITES = [rule for rule in RULES if not rule.csrf_exempt and set(rule.allow) & set(UNSAFE)]


def _send(caller: Caller, rule: Rule, method: str, role: str, path: str, *, token: str | None):
    client = APIClient(enforce_csrf_checks=True)
    headers = {}
    if role != ANONYMOUS:
        client.cookies[settings.SESSION_COOKIE_NAME] = caller.sessions[role]
    if token is not None:
        client.cookies[settings.CSRF_COOKIE_NAME] = token
        headers["HTTP_X_CSRFTOKEN"] = token
    payload = rule.payload(method, caller.world)
    options = {}
    if payload.data is not None:
        options = {
            "data": payload.data,
            "format": payload.format or ("json" if rule.surface is Surface.API else "multipart"),
        }
    return getattr(client, method.lower())(path, **options, **headers)


@pytest.mark.parametrize("rule", RULES_WITH_WRITES, ids=[rule.route for rule in RULES_WITH_WRITES])
def test_a_cookie_signed_request_without_the_csrf_token_is_refused(rule, caller):
    token = get_random_string(CSRF_SECRET_LENGTH, allowed_chars=CSRF_ALLOWED_CHARS)  # a browser's CSRF cookie
    methods = ("POST",) if rule.surface is Surface.ADMIN else UNSAFE  # the admin's forms all POST
    problems = []
    for route in url_routes():
        if rule_for(route.template) is not rule:
            continue
        path = caller.path(rule, route)
        for method in methods:
            roles = sorted(rule.allow.get(method, ()))
            if not roles:
                continue
            role = SUPPORT_ADMIN if SUPPORT_ADMIN in roles else roles[0]
            with transaction.atomic():
                before = database_fingerprint()
                refused = _send(caller, rule, method, role, path, token=None)
                changed = changed_tables(before, database_fingerprint())
                transaction.set_rollback(True)
            with transaction.atomic():
                accepted = _send(caller, rule, method, role, path, token=token)
                transaction.set_rollback(True)
            if refused.status_code != 403 or b"CSRF" not in refused.content or changed:
                problems.append(f"{method} {path} as {role} without a token: {refused.status_code}, changed {changed}")
            if not judge(rule, method, expected(rule, method, role), accepted):
                problems.append(f"{method} {path} as {role} with the token: {accepted.status_code}")

    assert not problems, "\n".join(problems)
