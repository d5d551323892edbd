from datetime import UTC, datetime, timedelta

import pytest

from notifications.models import OutboxMessage
from notifications.services import notification_enqueue

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_healthz_reports_the_outbox_backlog_as_information_only(client, member, time_machine):
    time_machine.move_to(NOON, tick=False)
    notification_enqueue(event_key="breach:ACME-42", recipients=[member], subject="s", body="b")
    OutboxMessage.objects.filter(channel="email").update(status=OutboxMessage.Status.DEAD)
    time_machine.shift(timedelta(minutes=5))

    response = client.get("/healthz")

    body = response.json()
    assert body["outbox"] == {"ok": True, "pending": 1, "oldest_due_age_seconds": 300.0, "dead": 1}
    # A mail outage is reported, but only the other parts decide whether the portal is healthy.
    others_ok = all(part["ok"] for name, part in body.items() if isinstance(part, dict) and name != "outbox")
    assert response.status_code == (200 if others_ok else 503)
