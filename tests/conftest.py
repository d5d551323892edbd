import os
from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, sync_playwright
from rest_framework.test import APIClient

from tenancy.models import Membership, Organization, Package, Region, User
from tests.factories import ContractFactory, MembershipFactory, OrganizationFactory, StaffFactory

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    # Tests never share cached state (heartbeats, throttles) with each other or with a running portal.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture
def organization(db) -> Organization:
    organization = OrganizationFactory.create(name="Acme Corp", slug="acme", region=Region.US)
    ContractFactory.create(organization=organization, package=Package.PREMIUM)
    return organization


@pytest.fixture
def other_organization(db) -> Organization:
    """Every tenant-facing test gets a second tenant whose data must stay invisible."""
    organization = OrganizationFactory.create(name="Globex GmbH", slug="globex", region=Region.EU)
    ContractFactory.create(organization=organization, package=Package.STANDARD)
    return organization


@pytest.fixture
def member(organization) -> User:
    return MembershipFactory.create(organization=organization, role=Membership.Role.MEMBER).user


@pytest.fixture
def org_admin(organization) -> User:
    return MembershipFactory.create(organization=organization, role=Membership.Role.ADMIN).user


@pytest.fixture
def other_member(other_organization) -> User:
    return MembershipFactory.create(organization=other_organization, role=Membership.Role.ADMIN).user


@pytest.fixture
def engineer(db) -> User:
    return StaffFactory.create(staff_role=User.StaffRole.SUPPORT_ENGINEER)


@pytest.fixture
def support_admin(db) -> User:
    return StaffFactory.create(staff_role=User.StaffRole.SUPPORT_ADMIN)


@pytest.fixture
def api_client() -> Callable[[User | None], APIClient]:
    def make(user: User | None = None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole run, whichever folder its tests live in: Playwright's sync API allows one
    instance per thread."""
    # Playwright's sync API runs an event loop in this thread; the ORM calls in tests are still synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
