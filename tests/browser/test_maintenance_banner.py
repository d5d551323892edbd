"""A customer sees a maintenance notice's banner in Chromium and dismisses it with the plain form (no JavaScript)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from maintenance.services import notice_create, one_off_window_create
from tenancy.models import Membership, Region, User
from tests.factories import TEST_PASSWORD, MembershipFactory, OrganizationFactory, StaffFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Firewall firmware upgrade"


@pytest.fixture
def customer(db) -> User:
    """A member of a Chicago organization with a notice inside its lead time (a window in two hours)."""
    organization = OrganizationFactory.create(
        name="Initech", slug="initech", region=Region.US, timezone="America/Chicago"
    )
    person = MembershipFactory.create(
        organization=organization, user=UserFactory.create(email="peter@initech.example"), role=Membership.Role.MEMBER
    ).user
    admin = StaffFactory.create(staff_role=User.StaffRole.SUPPORT_ADMIN)
    now = timezone.now()
    window = one_off_window_create(
        title="Firewall work",
        starts_at=now + timedelta(hours=2),
        ends_at=now + timedelta(hours=3),
        region="",
        organizations=[organization],
        created_by=admin,
    )
    notice_create(
        title=TITLE,
        body="The firewall restarts **once**; connections drop for about a minute.",
        severity="minor",
        occurrence_key=str(window.public_id),
        regions=[],
        organizations=[],
        lead_time=timedelta(hours=24),
        created_by=admin,
        publish=True,
        now=now,
    )
    return person


def test_the_banner_shows_until_the_customer_dismisses_it(page: Page, customer):
    page.goto("/")
    page.get_by_label("E-mail").fill(customer.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    banners = page.get_by_role("region", name="Maintenance notices")
    expect(banners.get_by_role("status")).to_contain_text(f"Maintenance: {TITLE}")
    expect(banners).to_contain_text(re.compile(r"C[SD]T \((\d{4}-\d\d-\d\d )?\d\d:\d\d UTC\)"))  # Chicago, UTC beside
    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_role("link", name="Tickets", exact=True).click()
    expect(banners).to_contain_text(TITLE)  # on every page of the organization

    page.get_by_role("button", name=f"Dismiss the notice “{TITLE}”").click()

    expect(page).to_have_url(re.compile(r"/o/initech/tickets/$"))  # back where the person was
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tickets")
    expect(page.get_by_role("region", name="Maintenance notices")).to_have_count(0)
    navigation.get_by_role("link", name="Maintenance", exact=True).click()
    expect(page.get_by_role("region", name="Maintenance notices")).to_have_count(0)
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()  # the notice itself stays on the page
