"""The portable SQL of the reports: PostgreSQL's percentile_cont, its SQLite twin, and a whole report on SQLite."""

import json
import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest
from django.db import connection

from reports.sql import SQLITE_PERCENTILE, _SqlitePercentile, percentile_cont

ROOT = Path(__file__).resolve().parents[2]
FRACTIONS = (0.0, 0.25, 0.5, 0.9, 0.95, 1.0)


def samples() -> list[list[float]]:
    rng = random.Random(11)
    return [
        [1.0],
        [3.0, 1.0],
        *[[round(rng.uniform(0, 20_000), 3) for _ in range(rng.randint(2, 60))] for _ in range(8)],
    ]


@pytest.mark.django_db
def test_the_python_percentile_is_postgresqls():
    with connection.cursor() as cursor:
        for values in samples():
            for fraction in FRACTIONS:
                cursor.execute(
                    "SELECT percentile_cont(%s) WITHIN GROUP (ORDER BY v) FROM unnest(%s::double precision[]) v",
                    [fraction, values],
                )
                assert percentile_cont(values, fraction) == pytest.approx(cursor.fetchone()[0]), (values, fraction)


def test_the_sqlite_aggregate_interpolates_the_same_way():
    database = sqlite3.connect(":memory:")
    database.create_aggregate(SQLITE_PERCENTILE, 2, cast(Any, _SqlitePercentile))
    database.execute("CREATE TABLE t (g INTEGER, v REAL)")
    for group, values in enumerate(samples()):
        database.executemany("INSERT INTO t VALUES (?, ?)", [(group, value) for value in values])
    database.execute("INSERT INTO t VALUES (0, NULL)")  # ignored, as PostgreSQL ignores NULLs

    for fraction in FRACTIONS:
        rows = database.execute(
            f"SELECT g, {SQLITE_PERCENTILE}(v, ?) FROM t GROUP BY g ORDER BY g",  # noqa: S608 (a constant name)
            [fraction],
        ).fetchall()
        assert [value for _, value in rows] == [percentile_cont(values, fraction) for values in samples()]
    assert percentile_cont([], 0.5) is None


SQLITE_REPORT = """
import json
from datetime import timedelta
from django.utils import timezone
from reports.periods import local_today, month_start, add_months, ReportPeriod
from reports.selectors import sla_report_get, breach_list
from tenancy.models import Contract, Membership, Organization, User
from tickets.services import ticket_open, ticket_reply, ticket_status_change

now = timezone.now()
org = Organization.objects.create(name="Lite", slug="lite", reference_prefix="LITE", region="EU",
                                  timezone="Europe/Berlin")
Contract.objects.create(organization=org, package="premium", effective_from=now - timedelta(days=90))
customer = User.objects.create_user("lite@example.com")
Membership.objects.create(organization=org, user=customer, role="member")
engineer = User.objects.create_user("eng@example.com", staff_role="support_engineer")

def opened(minutes_ago, subject):
    return ticket_open(organization=org, requester=customer, subject=subject, description="", ticket_type="incident",
                       priority="P2", source="portal", received_at=now - timedelta(minutes=minutes_ago))

quick, late, waiting = opened(10, "quick"), opened(45, "late"), opened(20, "waiting")
for ticket in (quick, late):
    ticket_reply(ticket=ticket, author=engineer, body="Here")
    ticket_status_change(ticket=ticket, actor=engineer, status="resolved")
ticket_status_change(ticket=waiting, actor=engineer, status="waiting_on_customer")

today = local_today(timezone=org.timezone, now=timezone.now())
period = ReportPeriod(first_day=add_months(month_start(today), -1), last_day=today, timezone=org.timezone)
report = sla_report_get(organization=org, period=period, now=timezone.now())
first, resolution = report.first_response, report.resolution
print(json.dumps({
    "received": report.received_total,
    "first": [first.clocks, first.met, first.breached, first.open, first.median_seconds, first.p95_seconds],
    "resolution": [resolution.clocks, resolution.met, resolution.open, resolution.median_seconds],
    "aim": [report.aim.within, report.aim.resolved],
    "pauses": [[p.reason, p.pauses] for p in report.pauses],
    "history": sum(m.first_response.decided for m in report.history),
    "bins": sum(b.count for b in report.distributions["first_response"].bins),
    "policies": [[s.version, s.tickets] for s in report.policies],
    "breaches": [[b.ticket.subject, b.clock_kind] for b in breach_list(organization=org, period=period)],
}))
"""


@pytest.mark.processes
def test_a_report_on_the_embedded_sqlite_database(tmp_path):
    environment = {
        key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
    } | {"PORTAL_VAR_DIR": str(tmp_path), "DJANGO_DEBUG": "true"}
    environment.pop("DJANGO_ALLOWED_HOSTS", None)
    (tmp_path / "cache").mkdir()

    def manage(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        ).stdout

    manage("migrate", "--noinput")
    figures = json.loads(manage("shell", "--command", SQLITE_REPORT).strip().splitlines()[-1])

    assert (tmp_path / "portal.sqlite3").exists()
    assert figures["received"] == 3
    clocks, met, breached, still_open, median, p95 = figures["first"]
    assert (clocks, met, breached, still_open) == (3, 1, 1, 1)
    assert median == pytest.approx((10 + 45) * 60 / 2, abs=5)  # between the 10 and the 45 minutes taken
    assert p95 == pytest.approx(10 * 60 + 0.95 * 35 * 60, abs=5)
    assert figures["resolution"][:3] == [3, 2, 1]
    assert figures["aim"] == [1, 2]  # the quick one, resolved within 30 minutes
    assert figures["pauses"] == [["waiting_on_customer", 1]]
    assert figures["history"] == 2
    assert figures["bins"] == 2
    assert figures["policies"] == [[0, 3]]
    assert figures["breaches"] == [["late", "first_response"]]
