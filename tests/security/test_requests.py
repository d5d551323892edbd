"""Requests that try to steer the portal: redirects to other sites, and headers that claim an identity, a host or
HTTPS. None of them changes where the portal sends people, who they are, or which host it trusts."""

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from rest_framework.test import APIClient

from tests.factories import TEST_PASSWORD
from tests.security.routes import url_routes
from tests.security.rules import RULES, Surface, rule_for
from tests.security.world import ANONYMOUS, ENGINEER, MEMBER_A, SUPPORT_ADMIN

pytestmark = pytest.mark.django_db

ELSEWHERE = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "https:evil.example",
    "///evil.example/",
    "javascript:alert(1)",
    " https://evil.example/",
]
PAGES = [rule for rule in RULES if rule.surface is not Surface.API and not rule.prefix]


def _stays_here(location: str) -> bool:
    parts = urlsplit(location.strip())
    return (
        parts.scheme in {"", "http", "https"}
        and parts.netloc in {"", "testserver"}
        and not location.replace("\\", "/").startswith("//")
    )


def _with_next(rule, method, caller, target):
    payload = rule.payload(method, caller.world)
    data = dict(payload.data) if isinstance(payload.data, dict) else {}
    return data | {"next": target}


@pytest.mark.parametrize("rule", PAGES, ids=[rule.route or "/" for rule in PAGES])
def test_no_page_redirects_to_another_site_whatever_next_says(rule, caller):
    """Every page and method, as a role it serves, with `next` in the query string and in the form."""
    problems = []
    for route in url_routes():
        if rule_for(route.template) is not rule:
            continue
        for method, roles in rule.allow.items():
            role = sorted(roles)[0]
            for target in ELSEWHERE:
                client = APIClient()
                if role != ANONYMOUS:
                    client.cookies[settings.SESSION_COOKIE_NAME] = caller.sessions[role]
                separator = "&" if "?" in caller.path(rule, route) else "?"
                path = f"{caller.path(rule, route)}{separator}next={target}"
                with transaction.atomic():
                    if method == "GET":
                        response = client.get(path)
                    else:
                        response = getattr(client, method.lower())(
                            path, data=_with_next(rule, method, caller, target), format="multipart"
                        )
                    transaction.set_rollback(True)
                location = response.get("Location", "")
                if location and not _stays_here(location):
                    problems.append(f"{method} {path} as {role} → {location}")

    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("target", ELSEWHERE)
def test_signing_in_with_a_foreign_next_lands_at_home(target, world):
    response = APIClient().post(
        f"/accounts/login/?next={target}", {"username": world.users[MEMBER_A].email, "password": TEST_PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize(
    "header", ["HTTP_REMOTE_USER", "HTTP_X_REMOTE_USER", "HTTP_X_FORWARDED_USER", "HTTP_X_AUTH_USER", "HTTP_X_USER"]
)
def test_identity_headers_make_nobody_anybody(header, world):
    staff = world.users[SUPPORT_ADMIN].email
    anonymous = APIClient()
    member = APIClient()
    member.force_login(world.users[MEMBER_A])

    assert anonymous.get("/api/v1/queue/", **{header: staff}).status_code == 401
    assert anonymous.get("/staff/queue/", **{header: staff})["Location"].startswith("/accounts/login/")
    assert member.get("/api/v1/queue/", **{header: staff}).status_code == 404
    assert member.get("/staff/queue/", **{header: staff}).status_code == 404
    assert member.get("/o/globex/", **{header: world.users[ENGINEER].email}).status_code == 404


def test_a_host_the_portal_does_not_serve_is_refused(world):
    client = APIClient()
    client.force_login(world.users[MEMBER_A])

    assert client.get("/o/acme/maintenance/", HTTP_HOST="evil.example").status_code == 400


def test_forwarded_host_and_proto_do_not_change_the_links_the_portal_makes(world):
    client = APIClient()
    client.force_login(world.users[MEMBER_A])

    page = client.get(
        "/o/acme/maintenance/", HTTP_X_FORWARDED_HOST="evil.example", HTTP_X_FORWARDED_PROTO="https"
    ).content.decode()
    mail.outbox.clear()  # the world's own notices
    APIClient().post(
        "/accounts/password-reset/",
        {"email": world.users[MEMBER_A].email},
        format="multipart",
        HTTP_X_FORWARDED_HOST="evil.example",
    )

    assert f"http://testserver/calendar/{world.feed.token}.ics" in page
    assert "evil.example" not in page
    assert len(mail.outbox) == 1
    assert "http://testserver/accounts/reset/" in mail.outbox[0].body
    assert "evil.example" not in mail.outbox[0].body


def test_a_forged_forwarded_proto_does_not_skip_the_https_redirect(settings):
    # HTTPS without a TLS proxy in front (DJANGO_BEHIND_TLS_PROXY=false): nothing may claim the request was HTTPS.
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = None

    response = APIClient().get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"
