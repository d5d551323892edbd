from datetime import UTC, datetime, timedelta

import pytest

from notifications.models import Notification, OutboxMessage
from notifications.selectors import (
    BELL_COUNT_CAP,
    notification_bell,
    notification_get,
    notification_list,
    outbox_backlog,
)
from notifications.services import notification_enqueue, notification_mark_read

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_the_list_shows_only_my_notices_unread_first_then_newest_first(member, other_member, notify, time_machine):
    time_machine.move_to(NOON, tick=False)
    oldest_read = notify(member, subject="oldest, read")
    time_machine.shift(timedelta(minutes=1))
    older_unread = notify(member, subject="older, unread")
    time_machine.shift(timedelta(minutes=1))
    newer_read = notify(member, subject="newer, read")
    time_machine.shift(timedelta(minutes=1))
    newest_unread = notify(member, subject="newest, unread")
    notify(other_member, subject="someone else's")
    for notification in (oldest_read, newer_read):
        notification_mark_read(notification=notification, user=member)

    assert list(notification_list(user=member)) == [newest_unread, older_unread, newer_read, oldest_read]
    assert str(notification_bell(user=member)) == "2"


def test_the_bell_counts_no_further_than_one_past_its_cap(member, other_member, notify, django_assert_num_queries):
    for _ in range(BELL_COUNT_CAP + 3):
        notify(member)
    notify(other_member)

    with django_assert_num_queries(1):
        bell = notification_bell(user=member)

    assert bell.counted == BELL_COUNT_CAP + 1
    assert str(bell) == "99+"
    assert str(notification_bell(user=other_member)) == "1"


def test_another_users_notice_is_not_found(member, other_member, notify):
    theirs = notify(other_member)

    with pytest.raises(Notification.DoesNotExist):
        notification_get(user=member, public_id=theirs.public_id)
    assert notification_get(user=other_member, public_id=theirs.public_id) == theirs


def test_the_backlog_counts_pending_and_dead_messages_and_the_longest_wait(member, time_machine):
    time_machine.move_to(NOON, tick=False)
    notification_enqueue(event_key="one", recipients=[member], subject="s", body="b")
    OutboxMessage.objects.filter(channel="email").update(status=OutboxMessage.Status.DEAD)
    notification_enqueue(event_key="two", recipients=[member], subject="s", body="b", channels=["email"])
    OutboxMessage.objects.filter(idempotency_key__startswith="two").update(next_attempt_at=NOON + timedelta(hours=1))

    assert outbox_backlog(now=NOON + timedelta(seconds=90)) == {
        "pending": 2,
        "oldest_due_age_seconds": 90.0,
        "dead": 1,
    }


def test_an_empty_outbox_has_no_backlog(db):
    assert outbox_backlog(now=NOON) == {"pending": 0, "oldest_due_age_seconds": None, "dead": 0}
