"""A customer and an engineer work a ticket in real browsers, with JavaScript's eye on every dialog."""

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Dialog, FilePayload, Page, expect

from tickets.models import Ticket
from walt_portal.demo import DEMO_ENGINEER, demo_seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-demo-passphrase-for-tests"
XSS_SUBJECT = "<img src=x onerror=alert(1)>"
XSS_BODY = "Click [x](javascript:alert(1)) <script>alert(2)</script>"
XSS_FILENAME = "<svg onload=alert(1)>.txt"


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    demo_seed(password=PASSWORD)


@pytest.fixture
def dialogs() -> list[str]:
    return []


@pytest.fixture
def new_page(browser: Browser, live_server, dialogs: list[str]) -> Iterator[Callable[[str], Page]]:
    """A signed-in page per person, each in its own browser context; every dialog any of them opens is recorded."""
    contexts = []

    def sign_in(email: str) -> Page:
        context = browser.new_context(base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)

        def record(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", record)
        page.goto("/")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        return page

    yield sign_in
    for context in contexts:
        context.close()


def file_ticket(
    page: Page, *, kind: str, subject: str, description: str, files: list[FilePayload] | None = None
) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New ticket").click()
    page.get_by_role("group", name="What do you need?").get_by_role("radio", name=kind).check()
    page.get_by_role("group", name="Priority").get_by_role("radio", name="P3").check()
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Description").fill(description)
    if files:
        page.get_by_label("Attachments").set_input_files(files)
    page.get_by_role("button", name="Open ticket").click()


def open_from_the_organization(page: Page, organization: str, subject: str) -> None:
    """The engineer's way in: organizations, then the organization's tickets, then the ticket."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Organizations").click()
    page.get_by_role("link", name=organization).click()
    page.get_by_role("main").get_by_role("link", name="Tickets", exact=True).click()
    page.get_by_role("link", name=subject, exact=True).click()


def test_a_standard_customer_files_a_question_and_sees_change_requests_are_guidance_only(demo, new_page):
    page = new_page("gus@globex.example")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New ticket").click()

    expect(page.get_by_role("radio", name="guidance only")).to_have_count(1)
    expect(page.get_by_text("gives guidance for change requests but does not perform changes").first).to_be_visible()
    expect(page.get_by_role("radio", name="Architecture review")).to_have_count(0)
    expect(page.get_by_text("Architecture reviews and deployment planning are included in the Premium")).to_be_visible()

    file_ticket(page, kind="Question", subject="How do we rotate our TLS certificates?", description="Which **steps**?")

    expect(page.get_by_role("heading", level=1)).to_have_text("How do we rotate our TLS certificates?")
    expect(page.locator(".ticket-header .reference")).to_have_text(re.compile(r"^GLOBEX-\d+$"))
    expect(page.locator(".markdown strong")).to_have_text("steps")


def test_a_premium_ticket_with_a_note_a_reply_and_a_declined_video_call(demo, new_page, dialogs):
    customer = new_page("ada@acme.example")
    file_ticket(
        customer,
        kind="Architecture review",
        subject="Review our multi-region layout",
        description="We run in **two regions**.",
        files=[{"name": "layout.md", "mimeType": "text/markdown", "buffer": b"# Regions\nus-east, eu-west\n"}],
    )
    expect(customer.get_by_role("heading", level=1)).to_have_text("Review our multi-region layout")
    expect(customer.get_by_role("link", name="layout.md").first).to_be_visible()

    engineer = new_page(DEMO_ENGINEER)
    open_from_the_organization(engineer, "Acme Corp", "Review our multi-region layout")
    engineer.get_by_label("Your reply").fill("Customer runs an old ingress controller.")
    engineer.get_by_label("Internal note").check()
    engineer.get_by_role("button", name="Post", exact=True).click()
    expect(engineer.get_by_text("Internal note added.")).to_be_visible()
    engineer.get_by_label("Your reply").fill("Thanks, we will review it today.")
    engineer.get_by_role("button", name="Post", exact=True).click()
    expect(engineer.get_by_text("Internal note · staff only")).to_be_visible()

    customer.reload()
    expect(customer.get_by_text("Thanks, we will review it today.")).to_be_visible()
    expect(customer.get_by_text("old ingress controller")).to_have_count(0)
    expect(customer.get_by_text("Internal note · staff only")).to_have_count(0)

    expect(customer.get_by_text("Video calls are at WALT Labs' discretion and are not guaranteed")).to_be_visible()
    customer.get_by_label("What would you like to discuss?").fill("Walk through the failover plan.")
    customer.get_by_role("button", name="Request a video call").click()
    expect(customer.get_by_text("Video call requested.")).to_be_visible()

    engineer.reload()
    engineer.get_by_label("Why not").fill("A written review covers this; we will call if questions remain.")
    engineer.get_by_role("button", name="Decline the call").click()
    expect(engineer.get_by_text("Video call declined; the customer is notified.")).to_be_visible()

    customer.reload()
    expect(customer.get_by_text("Declined: A written review covers this")).to_be_visible()
    assert dialogs == []


def test_script_in_subject_body_and_file_name_never_runs(demo, new_page, dialogs):
    customer = new_page("max@acme.example")
    file_ticket(
        customer,
        kind="Incident",
        subject=XSS_SUBJECT,
        description=XSS_BODY,
        files=[{"name": XSS_FILENAME, "mimeType": "text/plain", "buffer": b"harmless text\n"}],
    )
    expect(customer.get_by_role("heading", level=1)).to_have_text(XSS_SUBJECT)
    ticket = Ticket.objects.get(subject=XSS_SUBJECT)
    customer.get_by_label("Your reply").fill(XSS_BODY)
    customer.get_by_label("Attach a file").set_input_files(
        [{"name": XSS_FILENAME, "mimeType": "text/plain", "buffer": b"more text\n"}]
    )
    customer.get_by_role("button", name="Post reply").click()
    expect(customer.get_by_text("Reply posted.")).to_be_visible()

    engineer = new_page(DEMO_ENGINEER)
    for page in (customer, engineer):
        page.goto(f"/o/acme/tickets/{ticket.public_id}/")
        expect(page.get_by_role("heading", level=1)).to_have_text(XSS_SUBJECT)
        link = page.locator(".markdown a", has_text="x").first
        expect(link).not_to_have_attribute("href", "javascript:alert(1)")
        expect(page.locator("main img")).to_have_count(0)
        page.goto("/o/acme/tickets/")
        expect(page.get_by_role("link", name=XSS_SUBJECT)).to_be_visible()
        page.wait_for_timeout(200)  # give an injected handler the chance to fire

    assert dialogs == []
