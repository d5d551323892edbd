"""A report costs the same queries for one ticket as for many: Acme's month (eight tickets, three breaches, two
policy versions, pauses) against Globex's (one ticket, one breach), as customers of each."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

MARCH = {"month": "2026-03"}


def queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
        assert response.status_code == 200
        if response.streaming:
            b"".join(response.streaming_content)
    return len(captured)


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("reports/sla/", "application/json"),
        ("reports/sla/", "text/csv"),
        ("reports/sla/breaches/", "application/json"),
        ("reports/sla/breaches/", "text/csv"),
    ],
)
def test_api_queries_do_not_grow_with_the_data(month, api_client, path, accept):
    acme = api_client(month.customer_admin)
    globex = api_client(month.outsider)

    many = queries(lambda: acme.get(f"/api/v1/orgs/acme-eu/{path}", MARCH, HTTP_ACCEPT=accept))
    few = queries(lambda: globex.get(f"/api/v1/orgs/globex/{path}", MARCH, HTTP_ACCEPT=accept))

    assert many == few
    assert many <= 12


@pytest.mark.parametrize("path", ["", "report.csv", "breaches.csv"])
def test_page_queries_do_not_grow_with_the_data(month, client, path):
    client.force_login(month.customer_admin)
    many = queries(lambda: client.get(f"/o/acme-eu/reports/sla/{path}", MARCH))
    client.force_login(month.outsider)
    few = queries(lambda: client.get(f"/o/globex/reports/sla/{path}", MARCH))

    assert many == few
    assert many <= 18  # the session, the tenant, the report, a page of breaches, the header and banner


def test_the_report_itself_is_six_reads_in_one_transaction(month, api_client):
    client = api_client(month.customer_admin)

    with CaptureQueriesContext(connection) as captured:
        client.get("/api/v1/orgs/acme-eu/reports/sla/", MARCH)

    statements = [query["sql"] for query in captured]
    [settings] = [index for index, sql in enumerate(statements) if "set_config('work_mem'" in sql]
    assert statements[settings - 1].startswith("SAVEPOINT")  # one transaction, inside the test's own
    report = statements[settings + 1 :]
    assert len(report) == 7
    assert report[-1].startswith("RELEASE SAVEPOINT")
    assert all(sql.startswith("SELECT") for sql in report[:-1])


def test_the_overview_queries_do_not_grow_with_the_organizations(month, client):
    client.force_login(month.engineer)
    before = queries(lambda: client.get("/staff/reports/sla/", MARCH))
    OrganizationFactory.create_batch(5, timezone="America/New_York")

    after = queries(lambda: client.get("/staff/reports/sla/", MARCH))

    assert after == before
