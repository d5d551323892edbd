"""Calling a route as a role, and judging the answer against the rule: the machinery of the authorization matrix."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import resolve_url
from rest_framework.test import APIClient

from tests.security.routes import Route
from tests.security.rules import METHODS, Rule, Surface
from tests.security.world import ANONYMOUS, World

_CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


@dataclass(frozen=True)
class Expected:
    kind: str  # "allowed", "admitted", "sign-in", or "status"
    statuses: frozenset[int] = frozenset()

    def __str__(self) -> str:
        return self.kind if self.kind != "status" else "/".join(str(code) for code in sorted(self.statuses))


def expected(rule: Rule, method: str, role: str) -> Expected:  # noqa: PLR0911  # one return per case of the rules
    """What `role` must get from `method` on a route of `rule` (see the rules module for the reasoning)."""
    if (method, role) in rule.answers:
        return Expected("status", frozenset({rule.answers[method, role]}))
    if role in rule.allow.get(method, frozenset()):
        return Expected("admitted" if rule.surface is Surface.ADMIN else "allowed")
    if role == ANONYMOUS:
        return Expected("status", frozenset({405})) if rule.is_public else Expected("sign-in")
    if rule.owned and method not in rule.allow:
        return Expected("status", frozenset({405}))
    if role in rule.outsiders:
        if rule.surface is Surface.ADMIN:
            return Expected("sign-in")
        return Expected("status", frozenset({rule.outsider_status}))
    if method not in rule.allow:
        served = any(role in roles for roles in rule.allow.values())
        return Expected("status", frozenset({405} if served else {403, 405}))
    return Expected("status", frozenset({403}))


def _location(response: HttpResponse) -> str:
    return str(response.get("Location", ""))


def _sent_to_sign_in(rule: Rule, response: HttpResponse) -> bool:
    if rule.surface is Surface.API:
        return response.status_code == 401 and response.get("WWW-Authenticate") == "Token"
    if rule.surface is Surface.ADMIN:
        return response.status_code == 302 and (
            _location(response).startswith("/admin/login/") or _location(response) == "/admin/"
        )
    return response.status_code == 302 and _location(response).startswith(f"{resolve_url(settings.LOGIN_URL)}?next=")


def judge(rule: Rule, method: str, want: Expected, response: HttpResponse) -> bool:
    status = response.status_code
    if want.kind == "allowed":
        if method in rule.success:
            return status in rule.success[method]
        return 200 <= status < 400 and not _sent_to_sign_in(rule, response)
    if want.kind == "admitted":
        # Past the admin's gate: what happens next (a missing object, a model the admin may not add to) is the admin's.
        return status < 500 and not _location(response).startswith("/admin/login/")
    if want.kind == "sign-in":
        return _sent_to_sign_in(rule, response)
    return status in want.statuses


def normalized_body(response: HttpResponse) -> bytes:
    """The body without what differs on every render of the same page (masked CSRF tokens)."""
    content = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    return _CSRF_FIELD.sub(b'name="csrfmiddlewaretoken"', content)


class Caller:
    """Sends requests as any role: pages and the admin with the role's session cookie, the API with its token."""

    def __init__(self, world: World, sessions: dict[str, str]):
        self.world = world
        self.sessions = sessions
        self.client = APIClient()

    def path(self, rule: Rule, route: Route, *, organization_slug: str | None = None, **ids: str) -> str:
        values = self.world.url_values()
        if rule.values is not None:
            values |= rule.values(self.world)
        if organization_slug is not None:
            values["org_slug"] = organization_slug
        values |= ids
        path = route.path(values)
        return f"{path}?{rule.query(self.world)}" if rule.query is not None else path

    def send(self, rule: Rule, method: str, role: str, path: str) -> HttpResponse:
        assert method in METHODS
        self.client.cookies.clear()  # a fresh jar each time: a logout must not sign the role out for the next call
        headers = {}
        if role != ANONYMOUS:
            if rule.surface is Surface.API:
                headers["HTTP_AUTHORIZATION"] = f"Token {self.world.tokens[role]}"
            else:
                self.client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[role]
        payload = rule.payload(method, self.world)
        options = {}
        if payload.data is not None:
            options = {
                "data": payload.data,
                "format": payload.format or ("json" if rule.surface is Surface.API else "multipart"),
            }
        response: HttpResponse = getattr(self.client, method.lower())(path, **options, **headers)
        return response
