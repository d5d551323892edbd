"""The report in real Chromium: the charts carry the month's numbers, with JavaScript off, on a phone, under the CSP."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def contexts(browser: Browser, live_server) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def signed_in(browser: Browser, live_server, contexts, email: str, **options) -> Page:
    context = browser.new_context(base_url=live_server.url, **options)
    contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


def test_the_charts_show_the_months_numbers_without_javascript(browser, live_server, contexts, month):
    page = signed_in(browser, live_server, contexts, month.customer.email, java_script_enabled=False)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="SLA report").click()
    page.get_by_role("textbox", name="Month", exact=True).fill("2026-03")
    page.get_by_role("button", name="Show month").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("March 2026")
    compliance = page.get_by_role("img", name=re.compile(r"^First response: share met, last 12 months"))
    expect(compliance).to_be_visible()
    bar_titles = [t.text_content() for t in compliance.locator("rect title").all()]
    assert bar_titles == [
        "February 2026: 0.0 % met (0 of 1), 0.0 % after exclusions",
        "March 2026: 75.0 % met (6 of 8), 85.7 % after exclusions",
    ]
    assert compliance.locator("text.chart-value").all_text_contents()[-2:] == ["0 %", "75 %"]

    distribution = page.get_by_role("img", name=re.compile(r"^First response: time taken against the target"))
    assert [t.text_content() for t in distribution.locator("rect title").all()][:3] == [
        "0–6 min: 2",
        "6–12 min: 2",
        "12–18 min: 1",
    ]
    assert distribution.locator("text.chart-marker-label").text_content() == "target 30 min"
    late = distribution.locator("rect.late title").all_text_contents()
    assert late[:3] == ["30–36 min: 1", "36–42 min: 0", "42–48 min: 1"]

    priorities = page.get_by_role("img", name=re.compile(r"^Breaches by priority"))
    assert "P3: 2 first response breaches" in priorities.locator("rect title").all_text_contents()
    assert "P1: 1 resolution breach" in priorities.locator("rect title").all_text_contents()

    table = page.get_by_role("table", name="First response by month")
    expect(table.get_by_role("row", name=re.compile(r"^March 2026"))).to_contain_text("75.0 %")


def test_on_a_phone_the_page_fits_and_keeps_to_the_content_security_policy(browser, live_server, contexts, month):
    page = signed_in(browser, live_server, contexts, month.engineer.email, viewport=PHONE)
    refused: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )

    page.goto("/staff/reports/sla/?month=2026-03")
    page.get_by_role("link", name="Acme Europe").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("March 2026")
    expect(page.get_by_role("img", name=re.compile(r"^Breaches by priority"))).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert refused == []
