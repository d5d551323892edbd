import pytest
from playwright.sync_api import Page, expect

from walt_portal.demo import DEMO_ENGINEER, DEMO_SUPPORT_ADMIN, demo_seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-demo-passphrase-for-tests"


@pytest.fixture
def demo(db):
    demo_seed(password=PASSWORD)


def sign_in(page: Page, email: str) -> None:
    page.goto("/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize(
    ("email", "heading", "sees", "does_not_see"),
    [
        ("ada@acme.example", "Acme Corp", ["Acme Corp", "Members"], ["Organizations", "Admin", "Globex GmbH"]),
        ("max@acme.example", "Acme Corp", ["Acme Corp"], ["Organizations", "Admin", "Members"]),
        ("greta@globex.example", "Globex GmbH", ["Globex GmbH", "Members"], ["Organizations", "Acme Corp"]),
        # Staff land on the engineers' queue, which lists every organization's open work.
        (DEMO_ENGINEER, "Queue · every organization", ["Queue", "Acme Corp", "Globex GmbH"], ["Admin"]),
        (DEMO_SUPPORT_ADMIN, "Queue · every organization", ["Queue", "Acme Corp", "Admin"], []),
    ],
)
def test_each_demo_user_signs_in_and_sees_their_navigation(page: Page, demo, email, heading, sees, does_not_see):
    sign_in(page, email)

    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    navigation = page.get_by_role("navigation", name="Main")
    content = page.locator("main")
    for text in sees:
        expect(navigation.or_(content).get_by_text(text, exact=True).first).to_be_visible()
    for text in does_not_see:
        expect(navigation.get_by_role("link", name=text, exact=True)).to_have_count(0)
        if text == "Members":
            expect(content.get_by_role("heading", name="Members")).to_have_count(0)


def test_a_customer_cannot_open_another_organization(page: Page, demo):
    sign_in(page, "ada@acme.example")

    response = page.goto("/o/globex/")

    assert response is not None
    assert response.status == 404


def test_a_wrong_password_is_explained_and_sign_out_works(page: Page, demo):
    page.goto("/")
    page.get_by_label("E-mail").fill("ada@acme.example")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("did not match")

    sign_in(page, "ada@acme.example")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are signed out")
