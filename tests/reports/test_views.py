"""The report pages: what customers and staff see, the CSV downloads, the staff's exclusion form, the overview."""

import csv
import io
import re

import pytest

from reports.models import BreachExclusion, BreachExclusionChange
from tests.reports.conftest import at

pytestmark = pytest.mark.django_db

PAGE = "/o/acme-eu/reports/sla/"
OVERVIEW = "/staff/reports/sla/"
MARCH = {"month": "2026-03"}


def exclusion_page(month, name: str, clock: str, epoch: int = 0) -> str:
    return f"{PAGE}breaches/{month.tickets[name].public_id}/{clock}/{epoch}/exclusion/"


def signed_in(client, user):
    client.force_login(user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def words(response) -> str:
    """The page as read: tags gone, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode()))


def test_a_customer_reads_the_months_report_with_charts_and_excluded_breaches_explained(month, client):
    response = signed_in(client, month.customer).get(PAGE, MARCH)

    assert response.status_code == 200
    page = text(response)
    assert "SLA report · Acme Europe · March 2026" in words(response)
    assert "<strong>75.0 %</strong></td><td>85.7 %</td>" in page.replace("> <", "><")  # as measured, after exclusions
    assert "25.0 % of resolutions came within 30 minutes (2 of 8)" in words(response)
    assert page.count('role="img"') == 5  # compliance and distribution per clock, breaches by priority
    assert "Amendment 3: P1 first response in 15 minutes" in page
    assert "Customer delay: The customer asked us to hold the answer until their call at 09:30." in page
    # times in the organization's timezone for customers, with UTC beside them
    assert "2026-03-03 10:30 CET (09:30 UTC)" in page
    assert "Exclude…" not in page
    assert "csrfmiddlewaretoken" not in page.split("Breaches:")[1]


def test_the_page_needs_no_script_and_no_inline_style(month, client):
    page = signed_in(client, month.customer).get(PAGE, MARCH).content.decode()

    assert "<script" not in page
    assert "style=" not in page
    assert "<style" not in page


def test_staff_see_the_exclusion_form_on_each_breach(month, client):
    page = text(signed_in(client, month.engineer).get(PAGE, MARCH))

    assert page.count("Exclude…") == 2
    assert page.count("Count again…") == 1
    assert "2026-03-03 09:30 UTC" in page  # staff read UTC unless they chose a timezone


def test_bad_periods_answer_400_with_each_error_beside_its_field(month, client):
    response = signed_in(client, month.customer).get(PAGE, {"from": "2026-03-05", "to": "2026-03-01"})
    garbled = client.get(PAGE, {"from": "soon", "to": ""})

    assert response.status_code == 400
    page = text(response)
    assert "The report period is not valid." in page
    assert 'id="report-to-error">The last day comes before the first day.' in page
    assert 'aria-invalid="true"' in page
    assert "Service levels in" not in page
    assert garbled.status_code == 400
    assert "Give a date as YYYY-MM-DD" in text(garbled)
    assert "Give the last day of the report" in text(garbled)


def test_without_a_period_the_report_covers_this_month_so_far(month, client):
    page = text(signed_in(client, month.customer).get(PAGE))

    assert "April 2026" in page  # read on 1 April 2026 in Berlin


def test_the_csv_downloads_stream_the_figures_and_the_breaches(month, client):
    signed_in(client, month.customer)

    figures = client.get(f"{PAGE}report.csv", MARCH)
    breaches = client.get(f"{PAGE}breaches.csv", MARCH)

    assert figures.streaming
    assert breaches.streaming
    assert figures["Content-Disposition"] == 'attachment; filename="acme-eu-sla-report-2026-03.csv"'
    rows = dict(csv.reader(io.StringIO(b"".join(figures.streaming_content).decode())))
    assert rows["first_response.breached"] == "2"
    assert rows["aim.within"] == "2"
    listed = list(csv.DictReader(io.StringIO(b"".join(breaches.streaming_content).decode())))
    assert [row["late_seconds"] for row in listed] == ["900.0", "3600.0", "60.0"]
    assert listed[0]["link"].startswith("http://testserver/o/acme-eu/tickets/")
    assert client.get(f"{PAGE}report.csv", {"month": "2026-00"}).status_code == 400


def test_staff_exclude_a_breach_from_the_report_and_return_to_it(month, client):
    signed_in(client, month.engineer)
    back = f"{PAGE}?month=2026-03"

    response = client.post(
        exclusion_page(month, "T2", "first_response"),
        {"action": "exclude", "category": "duplicate", "reason": "Same as ACMEEU-3", "back": back},
    )

    assert response.status_code == 302
    assert response["Location"] == back
    exclusion = BreachExclusion.objects.get(record__ticket=month.tickets["T2"])
    assert (exclusion.excluded, exclusion.category, exclusion.decided_by) == (True, "duplicate", month.engineer)
    page = text(client.get(back))
    assert "Duplicate of another ticket: Same as ACMEEU-3" in page
    assert "100.0 %" in page  # first response after exclusions: 6 of 6


def test_a_foreign_back_link_is_ignored(month, client):
    signed_in(client, month.engineer)

    response = client.post(
        exclusion_page(month, "T2", "first_response"),
        {"action": "exclude", "category": "other", "reason": "x", "back": "https://evil.example/"},
    )

    assert response["Location"] == PAGE


def test_the_exclusion_form_lists_every_problem_and_saves_nothing(month, client):
    before = BreachExclusionChange.objects.count()
    signed_in(client, month.engineer)

    response = client.post(
        exclusion_page(month, "T2", "first_response"), {"action": "exclude", "category": "", "reason": ""}
    )
    unknown = client.post(
        exclusion_page(month, "T2", "first_response"), {"action": "exclude", "category": "luck", "reason": "x"}
    )

    assert response.status_code == 400
    page = text(response)
    assert "Category: Choose why the breach does not count." in page
    assert "Reason: This field is required." in page
    assert unknown.status_code == 400
    assert "Select a valid choice" in text(unknown)
    assert BreachExclusionChange.objects.count() == before


def test_the_exclusion_page_shows_the_breach_and_its_decisions(month, client):
    response = signed_in(client, month.admin).get(exclusion_page(month, "T5", "first_response"))

    assert response.status_code == 200
    page = text(response)
    assert "Count this breach again" in page
    assert "The customer asked us to hold the answer" in page
    assert month.engineer.display_name in page


def test_staff_count_an_excluded_breach_again(month, client):
    signed_in(client, month.admin)

    response = client.post(
        exclusion_page(month, "T5", "first_response"), {"action": "reinstate", "reason": "Our delay"}
    )

    assert response.status_code == 302
    assert BreachExclusion.objects.get(record__ticket=month.tickets["T5"]).excluded is False
    assert list(
        BreachExclusionChange.objects.filter(exclusion__record__ticket=month.tickets["T5"]).values_list(
            "action", "reason"
        )
    ) == [
        ("excluded", "The customer asked us to hold the answer until their call at 09:30."),
        ("reinstated", "Our delay"),
    ]


def test_customers_cannot_reach_the_exclusion_page(month, client):
    before = BreachExclusionChange.objects.count()

    for user in (month.customer, month.customer_admin):
        signed_in(client, user)
        assert client.get(exclusion_page(month, "T2", "first_response")).status_code == 404
        post = {"action": "exclude", "category": "other", "reason": "Ours"}
        assert client.post(exclusion_page(month, "T2", "first_response"), post).status_code == 404
    assert BreachExclusionChange.objects.count() == before


def test_every_report_page_is_404_for_another_organization(month, client):
    signed_in(client, month.outsider)
    urls = [PAGE, f"{PAGE}report.csv", f"{PAGE}breaches.csv", exclusion_page(month, "T2", "first_response")]

    answers = {url: client.get(url, MARCH).status_code for url in urls}
    answers["post exclusion"] = client.post(
        urls[-1], {"action": "exclude", "category": "other", "reason": "x"}
    ).status_code

    assert set(answers.values()) == {404}, answers


def test_the_staff_overview_ranks_organizations_worst_first(month, client):
    response = signed_in(client, month.engineer).get(OVERVIEW, MARCH)

    assert response.status_code == 200
    page = text(response)
    assert page.index("Globex") < page.index("Acme Europe")
    assert "81.2 %" in page  # Acme: 13 of 16 decided clocks met
    assert f'href="{PAGE}?month=2026-03"' in page
    assert signed_in(client, month.engineer).get(OVERVIEW, {"month": "2026-3"}).status_code == 400


def test_customers_get_404_on_the_staff_overview(month, client):
    for user in (month.customer, month.customer_admin, month.outsider):
        assert signed_in(client, user).get(OVERVIEW, MARCH).status_code == 404


def test_the_navigation_leads_customers_and_staff_to_the_reports(month, client):
    customer_page = text(signed_in(client, month.customer).get("/o/acme-eu/tickets/"))
    staff_page = text(signed_in(client, month.engineer).get("/staff/queue/"))

    assert f'href="{PAGE}">SLA report</a>' in customer_page
    assert f'href="{OVERVIEW}">SLA reports</a>' in staff_page


def test_a_pause_still_running_is_counted_until_the_page_is_read(month, client, time_machine):
    time_machine.move_to(at(4, 1, 7), tick=False)

    page = text(signed_in(client, month.customer).get(PAGE, MARCH))

    assert "Waiting on customer</td><td>2</td><td>14 h</td>" in page.replace("> <", "><")
