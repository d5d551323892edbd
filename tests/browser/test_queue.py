"""An engineer works the queue in a real browser: order, filters, take-next from two browsers, the side panel, live
rows, the offline banner, and a countdown that turns red when the browser's clock passes the deadline."""

import json
import re
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tickets.models import Ticket
from walt_portal.demo import DEMO_ENGINEER, DEMO_SUPPORT_ADMIN, demo_seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-demo-passphrase-for-tests"
# The demo's open tickets in the SLA's order: priority, then oldest first.
DEMO_ORDER = ["ACME-1", "GLOBEX-2", "ACME-2", "GLOBEX-1", "ACME-3"]


@pytest.fixture
def demo(db):
    demo_seed(password=PASSWORD)


@pytest.fixture
def problems() -> list[str]:
    """Console errors (a CSP refusal among them) and uncaught exceptions of every page."""
    return []


@pytest.fixture
def new_page(browser: Browser, live_server, problems) -> Iterator[Callable[..., Page]]:
    contexts = []

    def sign_in(email: str, *, fake_clock: bool = False) -> Page:
        context = browser.new_context(base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)

        def record(message: ConsoleMessage) -> None:
            if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
                problems.append(message.text)

        page.on("console", record)
        page.on("pageerror", lambda error: problems.append(str(error)))
        if fake_clock:
            page.clock.install()  # the browser's clock runs on, and the test can move it
        page.goto("/")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Queue")
        expect(page.locator("#queue-live-status")).to_contain_text("Live")
        return page

    yield sign_in
    for context in contexts:
        context.close()


def references(page: Page) -> list[str]:
    return page.locator("tr.queue-row td:first-child a").all_inner_texts()


def test_the_default_order_and_a_filter_from_the_url(demo, new_page, problems):
    page = new_page(DEMO_ENGINEER)

    assert references(page) == DEMO_ORDER
    expect(page.locator("#queue-order")).to_contain_text("Priority (P1 first), then time received (oldest first)")

    page.goto("/staff/queue/?region=EU&sort=updated")
    assert references(page) == ["GLOBEX-2", "GLOBEX-1"]  # GLOBEX-2 has the newer activity (a reply)
    expect(page.get_by_label("Region")).to_have_value("EU")
    expect(page.locator("#queue-order")).to_contain_text("you picked this order")
    assert problems == []


def test_two_engineers_take_next_at_once_and_get_different_tickets(demo, new_page, problems):
    eve, sam = new_page(DEMO_ENGINEER), new_page(DEMO_SUPPORT_ADMIN)

    eve.keyboard.press("t")
    sam.get_by_role("button", name="Take next").click()

    for page in (eve, sam):
        expect(page.locator("#queue-panel")).to_be_visible()
        expect(page.locator("#queue-panel")).to_contain_text("is yours now.")
    taken = {page.locator("#queue-panel .reference a").inner_text() for page in (eve, sam)}
    assert taken == {"ACME-1", "GLOBEX-2"}  # the two heads of the queue, one each
    assignees = dict(Ticket.objects.filter(assignee__isnull=False).values_list("reference", "assignee__email"))
    assert sorted(assignees.values()) == sorted([DEMO_ENGINEER, DEMO_SUPPORT_ADMIN])
    assert problems == []


def test_keyboard_and_a_reply_from_the_side_panel(demo, new_page, problems):
    page = new_page(DEMO_ENGINEER)

    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator("tr.queue-row.is-selected")).to_contain_text("GLOBEX-2")
    page.keyboard.press("r")

    panel = page.locator("#queue-panel")
    expect(panel.get_by_role("heading", name="Disk usage alert on web-2")).to_be_visible()
    expect(panel.get_by_label("Your reply")).to_be_focused()
    page.keyboard.type("We freed 20 GB on web-2.")
    panel.get_by_role("button", name="Post reply").click()

    expect(panel.get_by_text("Reply posted.")).to_be_visible()
    expect(panel.get_by_text("We freed 20 GB on web-2.")).to_be_visible()
    assert page.url.endswith("/staff/queue/")  # the engineer never left the queue
    panel.get_by_role("button", name="Post reply").click()  # empty: refused, with the reason, in the panel
    expect(panel.get_by_role("alert")).to_contain_text("Your reply was not posted")
    assert [message for message in problems if "400" not in message] == []


def test_a_ticket_opened_through_the_api_appears_live_and_offline_is_said(demo, new_page, live_server, problems):
    page = new_page(DEMO_ENGINEER)
    token = api(live_server.url, "/api/v1/auth/token/", {"email": "ada@acme.example", "password": PASSWORD})["token"]

    api(
        live_server.url,
        "/api/v1/orgs/acme/tickets/",
        {"subject": "Queue workers are stuck", "description": "", "type": "incident", "priority": "P1"},
        token=token,
    )

    row = page.locator("tr.queue-row", has_text="Queue workers are stuck")
    expect(row).to_be_visible(timeout=10_000)
    assert references(page)[:2] == ["ACME-1", "ACME-4"]  # a P1, behind the older P1
    page.context.set_offline(True)
    offline = re.compile(r"Offline — showing data from \d\d:\d\d:\d\d UTC")
    expect(page.locator("#queue-offline")).to_contain_text(offline, timeout=10_000)  # at the next poll
    page.context.set_offline(False)
    expect(page.locator("#queue-offline")).to_be_hidden(timeout=10_000)
    assert [message for message in problems if "ERR_INTERNET_DISCONNECTED" not in message] == []


def test_a_countdown_turns_red_when_its_deadline_passes(demo, new_page, problems):
    page = new_page(DEMO_ENGINEER, fake_clock=True)
    first_response = page.locator("tr.queue-row", has_text="ACME-3").locator(".clock").first  # due in 25 min

    expect(first_response).to_have_class(re.compile(r"\bclock-ok\b"))
    expect(first_response).to_contain_text(re.compile(r"2\d min \d+ s left"))
    page.clock.fast_forward("26:00")

    expect(first_response).to_have_class(re.compile(r"\bclock-breached\b"))
    expect(first_response).to_contain_text(re.compile(r"Breached\s+\d+ min \d+ s late"))
    expect(page.locator("tr.queue-row", has_text="ACME-3")).to_have_class(re.compile(r"\brow-breached\b"))
    assert problems == []


def api(base_url: str, path: str, body: dict[str, str], token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Token {token}"} if token else {})
    request = urllib.request.Request(base_url + path, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())
