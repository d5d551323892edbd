"""Many copies of the same alert at once (HA twins, retries): each is stored, and exactly one ticket opens.

Real PostgreSQL: every thread has its own connection, so only the partial unique constraint keeps the second open
alert out.
"""

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from monitoring import tasks
from monitoring.models import AlertGroup, InboundEvent
from monitoring.services import inbound_event_process
from tests.monitoring import payloads
from tests.monitoring.conftest import intake_url
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

COPIES = 40


def _run_at_once(count, work):
    start = threading.Barrier(count, timeout=30)
    results: list[object] = [None] * count

    def run(index):
        try:
            start.wait()
            results[index] = work(index)
        except Exception as error:  # reported by the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_copies_of_one_alert_open_exactly_one_ticket(am_source, postgres_only, monkeypatch):
    # Processing runs below, in threads of its own; nothing is sent to a broker.
    monkeypatch.setattr(tasks.process_event, "delay", lambda event_id: None)
    _source, token = am_source
    body = json.dumps(payloads.alertmanager()).encode()
    url = intake_url("alertmanager", token)

    def post(_index):
        return Client().post(url, data=body, content_type="application/json").status_code

    statuses = _run_at_once(COPIES, post)
    assert statuses == [202] * COPIES, statuses

    event_ids = list(InboundEvent.objects.values_list("pk", flat=True))
    assert len(event_ids) == COPIES

    outcomes = _run_at_once(COPIES, lambda index: inbound_event_process(event_id=event_ids[index]))
    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)], outcomes

    assert Ticket.objects.count() == 1
    group = AlertGroup.objects.get()
    assert group.open
    assert group.occurrences == COPIES
    assert InboundEvent.objects.filter(status="processed").count() == COPIES
    actions = sorted(event.outcome[0]["action"] for event in InboundEvent.objects.all())
    assert actions == ["duplicate"] * (COPIES - 1) + ["opened"]
