"""The sign-in lockout (django-axes): keyed on the account and the client's address, never on either alone, and on
an address that a client cannot choose by sending X-Forwarded-For."""

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from core.client_address import client_address
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"
ATTACKER = "203.0.113.9"
VICTIM = "198.51.100.7"
PROXY = "10.0.0.1"


@pytest.fixture
def victim():
    return UserFactory.create(email="ada@acme.example")


def sign_in(client, email: str, password: str, address: str, **headers):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=address, **headers)


def fail_five_times(client, email: str, address: str, **headers) -> None:
    for _ in range(5):
        sign_in(client, email, "not-the-password", address, **headers)


def test_five_failures_lock_the_account_out_from_that_address_even_with_the_right_password(client, victim):
    fail_five_times(client, victim.email, ATTACKER)

    response = sign_in(client, victim.email, TEST_PASSWORD, ATTACKER)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_owner_still_signs_in_from_their_own_address(client, victim):
    fail_five_times(client, victim.email, ATTACKER)

    response = sign_in(client, victim.email, TEST_PASSWORD, VICTIM)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(victim.pk)


def test_other_accounts_still_sign_in_from_the_locked_out_address(client, victim):
    colleague = UserFactory.create()
    fail_five_times(client, victim.email, ATTACKER)

    assert sign_in(client, colleague.email, TEST_PASSWORD, ATTACKER).status_code == 302


def test_the_api_token_endpoint_counts_failures_and_honours_the_lockout(victim, client):
    api = APIClient()
    for _ in range(5):
        api.post(TOKEN, {"email": victim.email, "password": "wrong"}, format="json", REMOTE_ADDR=ATTACKER)

    by_api = api.post(TOKEN, {"email": victim.email, "password": TEST_PASSWORD}, format="json", REMOTE_ADDR=ATTACKER)

    assert by_api.status_code == 429
    assert sign_in(client, victim.email, TEST_PASSWORD, ATTACKER).status_code == 429
    assert sign_in(client, victim.email, TEST_PASSWORD, VICTIM).status_code == 302


def test_a_wrong_password_and_an_unknown_account_are_answered_alike(victim):
    api = APIClient()

    wrong = api.post(TOKEN, {"email": victim.email, "password": "wrong"}, format="json")
    unknown = api.post(TOKEN, {"email": "nobody@acme.example", "password": "wrong"}, format="json")

    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json()) == (401, wrong.json())


def test_without_a_proxy_x_forwarded_for_is_not_the_clients_address(client, victim):
    # Each failure claims another address, and claims the victim's: the lockout still keys on the connection.
    for index in range(5):
        sign_in(client, victim.email, "wrong", ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{index}, {VICTIM}")

    assert sign_in(client, victim.email, TEST_PASSWORD, ATTACKER, HTTP_X_FORWARDED_FOR="192.0.2.77").status_code == 429
    assert sign_in(client, victim.email, TEST_PASSWORD, VICTIM).status_code == 302


def test_behind_a_proxy_the_lockout_keys_on_the_address_the_proxy_saw(client, victim, settings):
    """Every request comes from the proxy; the proxy appends the address it saw to what the client sent."""
    settings.TRUSTED_PROXY_COUNT = 1
    for index in range(5):
        sign_in(client, victim.email, "wrong", PROXY, HTTP_X_FORWARDED_FOR=f"{VICTIM}, 192.0.2.{index}, {ATTACKER}")

    locked = sign_in(client, victim.email, TEST_PASSWORD, PROXY, HTTP_X_FORWARDED_FOR=ATTACKER)
    owner = sign_in(client, victim.email, TEST_PASSWORD, PROXY, HTTP_X_FORWARDED_FOR=VICTIM)

    assert locked.status_code == 429
    assert owner.status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "address"),
    [
        (0, "198.51.100.7", PROXY),  # no proxy is trusted: the header is the client's word
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the left part was sent by the client
        (2, "6.6.6.6, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
        (2, "198.51.100.7", PROXY),  # shorter than the proxies that should have written it
        (1, "", PROXY),
        (1, "not-an-address", PROXY),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_is_read_from_the_proxies_own_entries(settings, proxies, forwarded_for, address):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)

    assert client_address(request) == address
