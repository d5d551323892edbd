"""API tokens: kept only as hashes, one indexed query per request, revoked by their owner, by every password change
and by deactivation."""

import hashlib
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import yaml
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from core.tokens import token_hash
from tenancy.models import ApiToken, User
from tenancy.services import API_TOKENS_PER_USER, api_token_issue
from tests.factories import TEST_PASSWORD, StaffFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
MEMBERS = "/api/v1/orgs/acme/members/"
NOTIFICATIONS = "/api/v1/notifications/"
NEW_PASSWORD = "a-new-and-long-passphrase-2026"
NOON = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def works(token: str) -> bool:
    status = with_token(token).get(NOTIFICATIONS).status_code
    assert status in {200, 401}
    return status == 200


def sign_in(user: User) -> str:
    return sign_in_with(user, TEST_PASSWORD)


def sign_in_with(user: User, password: str) -> str:
    response = APIClient().post(TOKEN, {"email": user.email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return str(response.json()["token"])


class NewerHasher(PBKDF2PasswordHasher):
    """A hasher the portal might move to, quick enough for a test."""

    algorithm = "pbkdf2_newer"
    iterations = 2


def signed_in_browser(user: User) -> Client:
    browser = Client()
    assert browser.post("/accounts/login/", {"username": user.email, "password": TEST_PASSWORD}).status_code == 302
    return browser


def test_the_table_holds_the_tokens_hash_and_never_the_token(member):
    token = sign_in(member)

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM tenancy_apitoken")
        rows = cursor.fetchall()
    assert len(rows) == 1
    assert not any(token in str(value) for value in rows[0])
    assert ApiToken.objects.get().token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_each_sign_in_issues_another_token_and_all_of_them_work(member):
    first, second = sign_in(member), sign_in(member)

    assert first != second
    assert len(first) >= 43  # 256 random bits, URL-safe
    assert works(first)
    assert works(second)
    assert with_token(first).get(MEMBERS).status_code == 403  # a member, not an admin: signed in all the same


@pytest.mark.parametrize(
    "header",
    ["Token made-up-token", "Token ", "Token two words", "Token \u00e9t\u00e9", "Bearer made-up-token"],
    ids=["unknown", "empty", "spaces", "not-ascii", "other-scheme"],
)
def test_a_wrong_token_gets_401_with_the_token_challenge(member, header):
    sign_in(member)

    response = APIClient().get(NOTIFICATIONS, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert set(response.json()) == {"message", "errors"}


def test_the_token_of_a_deactivated_account_answers_like_an_unknown_one(member):
    token = sign_in(member)
    User.objects.filter(pk=member.pk).update(is_active=False)  # however it happened: the token stops at once

    refused = with_token(token).get(NOTIFICATIONS)
    unknown = with_token("made-up-token").get(NOTIFICATIONS)

    assert (refused.status_code, refused.json()) == (unknown.status_code, unknown.json()) == (401, unknown.json())


def test_a_token_authenticates_in_one_query(member, api_client):
    token = sign_in(member)
    assert works(token)  # its use this hour is recorded: the next requests only read

    with CaptureQueriesContext(connection) as forced:
        assert api_client(member).get(NOTIFICATIONS).status_code == 200
    with CaptureQueriesContext(connection) as by_token:
        assert with_token(token).get(NOTIFICATIONS).status_code == 200

    assert len(by_token) == len(forced) + 1
    lookup = by_token.captured_queries[0]["sql"]
    assert "tenancy_apitoken" in lookup
    assert "tenancy_user" in lookup  # the user comes in the same query


def test_a_tokens_last_use_is_recorded_to_the_hour(member, time_machine):
    time_machine.move_to(NOON, tick=False)
    token, other = sign_in(member), sign_in(member)
    stored = ApiToken.objects.get(token_hash=token_hash(token))
    assert stored.last_used_at is None

    assert works(token)
    stored.refresh_from_db()
    assert stored.last_used_at == NOON

    time_machine.move_to(NOON + timedelta(minutes=59), tick=False)
    with CaptureQueriesContext(connection) as queries:
        assert works(token)
    assert not [query for query in queries.captured_queries if query["sql"].startswith("UPDATE")]
    stored.refresh_from_db()
    assert stored.last_used_at == NOON

    time_machine.move_to(NOON + timedelta(hours=1), tick=False)
    assert works(token)
    stored.refresh_from_db()
    assert stored.last_used_at == NOON + timedelta(hours=1)
    assert ApiToken.objects.exclude(pk=stored.pk).get().last_used_at is None  # the other token was not used
    assert other != token


def test_a_token_of_another_organization_reaches_nothing_there(member, other_member):
    token = sign_in(other_member)

    response = with_token(token).get(MEMBERS)
    missing = with_token(token).get("/api/v1/orgs/no-such-organization/members/")

    assert response.status_code == 404
    assert response.json() == missing.json()


def test_deleting_revokes_the_presented_token_and_no_other(member):
    leaked, kept = sign_in(member), sign_in(member)

    response = with_token(leaked).delete(TOKEN)

    assert response.status_code == 204
    assert not works(leaked)
    assert works(kept)
    assert with_token(leaked).delete(TOKEN).status_code == 401


def test_deleting_needs_a_token(member):
    sign_in(member)
    anonymous = APIClient().delete(TOKEN)
    session = APIClient()
    session.force_login(member)

    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Token"
    assert session.delete(TOKEN).status_code == 401  # a browser session has no token to revoke
    assert ApiToken.objects.count() == 1


def test_a_revoked_token_left_in_the_header_does_not_stop_signing_in_again(member):
    token = sign_in(member)
    with_token(token).delete(TOKEN)

    response = with_token(token).post(TOKEN, {"email": member.email, "password": TEST_PASSWORD}, format="json")

    assert response.status_code == 200
    assert works(response.json()["token"])


def test_past_the_limit_a_new_token_revokes_the_oldest(member):
    tokens = [api_token_issue(user=member) for _ in range(API_TOKENS_PER_USER + 1)]

    assert ApiToken.objects.filter(user=member).count() == API_TOKENS_PER_USER
    assert not works(tokens[0])
    assert works(tokens[1])
    assert works(tokens[-1])


def test_a_limit_of_one_person_leaves_anothers_tokens_alone(member, other_member):
    theirs = api_token_issue(user=other_member)

    for _ in range(API_TOKENS_PER_USER + 1):
        api_token_issue(user=member)

    assert works(theirs)


def test_resetting_a_forgotten_password_revokes_every_token(member):
    tokens = [sign_in(member), sign_in(member)]
    others = sign_in(StaffFactory.create())
    member.refresh_from_db()  # the reset token covers the last sign-in time
    uid = urlsafe_base64_encode(force_bytes(member.pk))
    browser = Client()
    link = browser.get(f"/accounts/reset/{uid}/{default_token_generator.make_token(member)}/")

    response = browser.post(link["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert not any(works(token) for token in tokens)
    assert works(others)


def test_a_password_set_from_the_command_line_or_a_shell_revokes_every_token(member, monkeypatch):
    tokens = [sign_in(member), sign_in(member)]
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)

    call_command("changepassword", member.email, stdout=StringIO())

    assert not any(works(token) for token in tokens)
    token = sign_in_with(member, NEW_PASSWORD)
    member.refresh_from_db()
    member.set_password("yet-another-long-passphrase-2026")
    member.save()
    assert not works(token)


def test_a_stronger_hash_of_the_same_password_at_sign_in_revokes_nothing(member, settings):
    token = sign_in(member)
    # The password was hashed with the tests' hasher; with a new preferred hasher, signing in re-hashes it.
    settings.PASSWORD_HASHERS = [f"{__name__}.NewerHasher", *settings.PASSWORD_HASHERS]
    before = User.objects.get(pk=member.pk).password

    sign_in(member)

    assert User.objects.get(pk=member.pk).password != before  # re-hashed
    assert works(token)


def test_a_refused_reset_revokes_nothing(member):
    token = sign_in(member)
    member.refresh_from_db()
    uid = urlsafe_base64_encode(force_bytes(member.pk))
    browser = Client()
    link = browser.get(f"/accounts/reset/{uid}/{default_token_generator.make_token(member)}/")

    response = browser.post(link["Location"], {"new_password1": NEW_PASSWORD, "new_password2": "something-else-2026"})

    assert response.status_code == 200  # the form again, with its error
    assert works(token)


def test_changing_ones_own_password_in_the_admin_revokes_every_token(support_admin):
    token = sign_in(support_admin)
    browser = signed_in_browser(support_admin)

    response = browser.post(
        "/admin/password_change/",
        {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/password_change/done/"
    assert not works(token)
    assert browser.get("/admin/").status_code == 200  # this session stays signed in, as Django's page keeps it


def test_a_wrong_old_password_in_the_admin_revokes_nothing(support_admin):
    token = sign_in(support_admin)

    response = signed_in_browser(support_admin).post(
        "/admin/password_change/",
        {"old_password": "not-the-password", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert works(token)


@pytest.mark.parametrize(
    "form",
    [
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        {"usable_password": "false", "unset-password": "Disable password-based authentication"},
    ],
    ids=["new-password", "password-sign-in-off"],
)
def test_a_support_admin_setting_someones_password_revokes_their_tokens(support_admin, member, form):
    token = sign_in(member)

    response = signed_in_browser(support_admin).post(f"/admin/tenancy/user/{member.pk}/password/", form)

    assert response.status_code == 302
    assert not works(token)
    member.refresh_from_db()
    assert member.has_usable_password() is (form["usable_password"] == "true")


def _change_form(user: User, **changes: object) -> dict[str, object]:
    fields = {
        "email": user.email,
        "full_name": user.full_name,
        "timezone": user.timezone,
        "staff_role": user.staff_role,
        "is_active": user.is_active,
    }
    return {name: value for name, value in (fields | changes).items() if value is not False}


def test_deactivating_an_account_in_the_admin_revokes_its_tokens(support_admin, member):
    token = sign_in(member)
    admin = signed_in_browser(support_admin)

    response = admin.post(f"/admin/tenancy/user/{member.pk}/change/", _change_form(member, is_active=False))

    assert response.status_code == 302
    assert ApiToken.objects.filter(user=member).count() == 0
    User.objects.filter(pk=member.pk).update(is_active=True)
    assert not works(token)  # activated again, the account still has no token


def test_other_changes_in_the_admin_keep_the_tokens(support_admin, member):
    token = sign_in(member)

    response = signed_in_browser(support_admin).post(
        f"/admin/tenancy/user/{member.pk}/change/", _change_form(member, full_name="Max Mustermann")
    )

    assert response.status_code == 302
    assert works(token)


def test_support_admins_see_tokens_by_their_hint_and_revoke_them(support_admin, member):
    token = sign_in(member)
    stored = ApiToken.objects.get()
    admin = signed_in_browser(support_admin)

    listing = admin.get("/admin/tenancy/apitoken/").content.decode()
    deleted = admin.post(f"/admin/tenancy/apitoken/{stored.pk}/delete/", {"post": "yes"})

    assert token[-4:] in listing
    assert token not in listing
    assert stored.token_hash not in listing
    assert deleted.status_code == 302
    assert not works(token)


def test_the_schema_declares_the_token_scheme_for_signing_out_and_every_other_call(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)

    scheme = schema["components"]["securitySchemes"]["tokenAuth"]
    token = schema["paths"]["/api/v1/auth/token/"]
    assert {key: scheme[key] for key in ("type", "in", "name")} == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
    }
    assert token["post"]["security"] == [{}]  # signing in needs no token
    assert token["delete"]["security"] == [{"tokenAuth": []}]
    assert {"tokenAuth": []} in schema["paths"]["/api/v1/orgs/{org_slug}/members/"]["get"]["security"]
