from datetime import UTC, datetime, timedelta

import pytest

from core.heartbeat import heartbeat_record
from core.tasks import heartbeat
from sla.services import sla_sweep

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_healthz_is_healthy_with_a_fresh_heartbeat(client, time_machine):
    time_machine.move_to(NOON, tick=False)
    heartbeat()
    sla_sweep()

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"]
    assert body["broker"]["ok"]
    assert body["beat"]["heartbeat_age_seconds"] == 0


def test_healthz_is_503_when_beat_has_not_run(client):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["beat"] == {"ok": False, "heartbeat_age_seconds": None}


def test_healthz_is_503_when_the_heartbeat_is_older_than_a_minute(client, time_machine):
    time_machine.move_to(NOON, tick=False)
    heartbeat_record(name="beat")
    time_machine.shift(timedelta(seconds=61))

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["beat"]["heartbeat_age_seconds"] == 61


def test_healthz_reveals_no_secrets(client, settings):
    body = client.get("/healthz").content.decode()

    assert settings.SECRET_KEY not in body
    assert "redis://" not in body
    assert "postgres://" not in body


def test_security_headers_are_sent_on_every_page(client):
    response = client.get("/accounts/login/")

    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_healthz_is_503_when_a_breach_waits_more_than_a_minute_to_be_recorded(
    client, time_machine, organization, member
):
    from tickets.services import ticket_open

    time_machine.move_to(NOON, tick=False)
    ticket_open(
        organization=organization, requester=member, subject="Down", description="", ticket_type="incident",
        priority="P1", source="portal",
    )  # fmt: skip
    time_machine.shift(timedelta(minutes=31, seconds=30))
    heartbeat()
    sla_sweep(now=NOON)  # the sweeper is alive but has not caught up with the deadline

    body = client.get("/healthz").json()

    assert body["sla_sweeper"]["lag_seconds"] == 9 * 60  # the 75 % warning was due at 22:30
    assert body["status"] == "unhealthy"
