"""The counts at a glance are counted once for everyone and again by a worker, never by a request that has figures
younger than a minute to show."""

from datetime import UTC, timedelta

import pytest
import redis
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu.exceptions import OperationalError

from tickets.queue_counts import (
    COUNTS_FRESH_SECONDS,
    COUNTS_STALE_SECONDS,
    queue_counts_recent,
    queue_day_start,
)
from tickets.tasks import refresh_queue_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker():
    """The broker's default queue, where the refresh is asked for; emptied before and after."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(settings.CELERY_TASK_DEFAULT_QUEUE)
    yield client
    client.delete(settings.CELERY_TASK_DEFAULT_QUEUE)
    client.close()


def _counted(now, day_start):
    with CaptureQueriesContext(connection) as queries:
        counts = queue_counts_recent(now=now, day_start=day_start)
    return counts, len(queries)


def test_fresh_counts_are_read_and_stale_ones_shown_while_a_worker_counts_again(
    organization, member, open_ticket, broker
):
    now = timezone.now()
    day_start = queue_day_start(now=now, zone=UTC)
    open_ticket(organization, member)

    first, first_queries = _counted(now, day_start)
    open_ticket(organization, member, subject="Second")
    fresh, fresh_queries = _counted(now + timedelta(seconds=COUNTS_FRESH_SECONDS - 1), day_start)
    stale, stale_queries = _counted(now + timedelta(seconds=COUNTS_FRESH_SECONDS + 1), day_start)
    again, _ = _counted(now + timedelta(seconds=COUNTS_FRESH_SECONDS + 2), day_start)
    asked = broker.llen(settings.CELERY_TASK_DEFAULT_QUEUE)

    refresh_queue_counts(day_start.isoformat())  # what the worker runs
    refreshed, refreshed_queries = _counted(timezone.now(), day_start)

    assert (first.total, first_queries) == (1, 1)
    assert (fresh.total, fresh_queries) == (1, 0)
    assert (stale.total, stale_queries) == (1, 0)
    assert again.total == 1
    assert asked == 1  # once, however many requests found them stale
    assert (refreshed.total, refreshed_queries) == (2, 0)


def test_counts_no_worker_refreshed_for_a_minute_are_counted_by_the_request(organization, member, open_ticket, broker):
    day_start = queue_day_start(now=timezone.now(), zone=UTC)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        open_ticket(organization, member)
        queue_counts_recent(now=timezone.now(), day_start=day_start)
        open_ticket(organization, member, subject="Second")
        traveller.shift(timedelta(seconds=COUNTS_STALE_SECONDS + 1))

        counts, queries = _counted(timezone.now(), day_start)

    assert (counts.total, queries) == (2, 1)


def test_a_broker_that_refuses_the_refresh_has_the_request_count(
    organization, member, open_ticket, broker, monkeypatch
):
    day_start = queue_day_start(now=timezone.now(), zone=UTC)
    now = timezone.now()
    open_ticket(organization, member)
    queue_counts_recent(now=now, day_start=day_start)
    open_ticket(organization, member, subject="Second")

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to the broker. Connection refused.")

    monkeypatch.setattr(refresh_queue_counts, "apply_async", refuse)
    counts, queries = _counted(now + timedelta(seconds=COUNTS_FRESH_SECONDS + 1), day_start)
    monkeypatch.undo()
    later, _ = _counted(now + timedelta(seconds=COUNTS_FRESH_SECONDS + 2), day_start)

    assert (counts.total, queries) == (2, 1)
    assert later.total == 2
    assert broker.llen(settings.CELERY_TASK_DEFAULT_QUEUE) == 0  # counted by the request, nothing asked


def test_each_start_of_day_has_its_own_counts(organization, member, open_ticket, broker):
    now = timezone.now()
    open_ticket(organization, member)
    utc_day = queue_day_start(now=now, zone=UTC)
    later_day = utc_day + timedelta(hours=1)

    queue_counts_recent(now=now, day_start=utc_day)
    _, queries = _counted(now, later_day)

    assert queries == 1
