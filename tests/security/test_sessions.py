"""Sessions: a new id at sign-in, gone from the server at sign-out, ended elsewhere by a password change; cookies
that scripts cannot read and other sites cannot send, in the production settings."""

import json

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tenancy.models import User
from tests.factories import TEST_PASSWORD, MembershipFactory, StaffFactory
from tests.test_settings import PRODUCTION, _run

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
NEW_PASSWORD = "a-new-and-long-passphrase-2026"


@pytest.fixture
def member():
    return MembershipFactory.create(organization__slug="acme").user


def signed_in(user: User) -> Client:
    """A browser that signed in through the login form, as a person does."""
    client = Client()
    response = client.post(LOGIN, {"username": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.content
    return client


def session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_signing_in_gives_a_new_session_id_and_drops_the_old_one(member):
    client = Client()
    anonymous = client.session  # a session made before signing in, as a fixation attack would plant it
    anonymous["probe"] = "planted"
    anonymous.save()
    planted = str(anonymous.session_key)
    client.cookies[settings.SESSION_COOKIE_NAME] = planted

    response = client.post(LOGIN, {"username": member.email, "password": TEST_PASSWORD})

    assert response.status_code == 302
    assert session_key(client) != planted
    assert not SessionStore().exists(planted)


def test_signing_out_ends_the_session_on_the_server(member):
    client = signed_in(member)
    stolen = session_key(client)

    assert client.post("/accounts/logout/").status_code == 200  # the "signed out" page

    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = stolen
    answer = replay.get("/o/acme/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/login/")
    assert not SessionStore().exists(stolen)


def test_changing_the_password_keeps_this_session_and_ends_the_others():
    admin = StaffFactory.create(staff_role=User.StaffRole.SUPPORT_ADMIN)
    here, elsewhere = signed_in(admin), signed_in(admin)

    response = here.post(
        "/admin/password_change/",
        {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert here.get("/staff/queue/").status_code == 200
    assert elsewhere.get("/staff/queue/").status_code == 302


def test_resetting_a_forgotten_password_ends_every_session(member):
    elsewhere = signed_in(member)
    member.refresh_from_db()  # the reset token covers the last sign-in time
    uid = urlsafe_base64_encode(force_bytes(member.pk))
    browser = Client()
    link = browser.get(f"/accounts/reset/{uid}/{default_token_generator.make_token(member)}/")

    response = browser.post(link["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert elsewhere.get("/o/acme/").status_code == 302


def test_the_session_cookie_is_http_only_and_same_site(member, settings):
    settings.SESSION_COOKIE_SECURE = True  # as with DJANGO_HTTPS=true (below: what production resolves to)
    client = Client()

    client.post(LOGIN, {"username": member.email, "password": TEST_PASSWORD})

    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Lax"


def test_production_settings_make_cookies_secure_http_only_and_same_site():
    names = [
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_SAMESITE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_PROXY_SSL_HEADER",
        "TRUSTED_PROXY_COUNT",
    ]
    script = (
        f"import json; from django.conf import settings as s; print(json.dumps({{n: getattr(s, n) for n in {names}}}))"
    )

    result = _run("shell", "-c", script, env=PRODUCTION)

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["SESSION_COOKIE_SECURE"] is values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] == values["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["TRUSTED_PROXY_COUNT"] == 1


def test_a_password_reset_link_is_single_use(member):
    uid = urlsafe_base64_encode(force_bytes(member.pk))
    token = default_token_generator.make_token(member)
    browser = Client()
    link = browser.get(f"/accounts/reset/{uid}/{token}/")
    browser.post(link["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    again = Client().get(f"/accounts/reset/{uid}/{token}/")

    assert again.status_code == 200  # the "this link is no longer valid" page, not the form
    assert b"new_password1" not in again.content
    assert not mail.outbox  # nothing was sent by following links
