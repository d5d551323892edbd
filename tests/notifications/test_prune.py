from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from notifications.models import Notification, OutboxMessage
from notifications.services import outbox_prune_sent
from notifications.tasks import prune_sent
from tests.factories import UserFactory
from tests.notifications.conftest import outbox_email

NOON = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
RETENTION = timedelta(days=90)


def _message(recipient, key, *, status=OutboxMessage.Status.SENT, sent_days_ago=None):
    sent_at = NOON - timedelta(days=sent_days_ago) if sent_days_ago is not None else None
    return outbox_email(recipient, key, status=status, sent_at=sent_at)


@pytest.mark.django_db
def test_only_messages_sent_before_the_retention_are_deleted():
    recipient = UserFactory.create()
    for day in range(91, 96):
        _message(recipient, f"old-{day}", sent_days_ago=day)
    kept = {
        _message(recipient, "sent-at-the-limit", sent_days_ago=90).pk,
        _message(recipient, "sent-yesterday", sent_days_ago=1).pk,
        _message(recipient, "pending", status=OutboxMessage.Status.PENDING).pk,
        _message(recipient, "dead-long-ago", status=OutboxMessage.Status.DEAD, sent_days_ago=400).pk,
    }

    assert outbox_prune_sent(now=NOON, retention=RETENTION, batch=2) == 5  # three batches: 2, 2, 1

    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == kept
    assert outbox_prune_sent(now=NOON, retention=RETENTION) == 0


@pytest.mark.django_db
def test_in_app_notices_stay_in_their_recipients_list(notify):
    recipient = UserFactory.create()
    notice = notify(recipient)
    OutboxMessage.objects.filter(pk=notice.source_id).update(sent_at=NOON - timedelta(days=400))

    assert outbox_prune_sent(now=NOON, retention=RETENTION) == 0

    assert Notification.objects.filter(pk=notice.pk, source_id=notice.source_id).exists()


@pytest.mark.django_db
def test_the_hourly_task_prunes_with_the_configured_retention(time_machine):
    time_machine.move_to(NOON)
    recipient = UserFactory.create()
    _message(recipient, "old", sent_days_ago=settings.NOTIFICATIONS_SENT_RETENTION.days + 1)
    recent = _message(recipient, "recent", sent_days_ago=settings.NOTIFICATIONS_SENT_RETENTION.days - 1)

    prune_sent.apply()

    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == [recent.pk]
    assert settings.CELERY_BEAT_SCHEDULE["notifications-prune-sent"]["task"] == prune_sent.name
