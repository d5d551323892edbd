from datetime import UTC, datetime, timedelta

import pytest

from core.exceptions import PermissionDeniedError
from notifications.services import notification_mark_all_read, notification_mark_read

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_reading_a_notice_again_keeps_the_first_reading(member, notify, time_machine):
    notification = notify(member)
    time_machine.move_to(NOON, tick=False)
    notification_mark_read(notification=notification, user=member)
    time_machine.shift(timedelta(hours=1))

    notification_mark_read(notification=notification, user=member)

    notification.refresh_from_db()
    assert notification.read_at == NOON


def test_nobody_marks_another_persons_notice(member, other_member, notify):
    theirs = notify(other_member)

    with pytest.raises(PermissionDeniedError):
        notification_mark_read(notification=theirs, user=member)

    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_touches_only_my_unread_notices(member, other_member, notify, time_machine):
    time_machine.move_to(NOON, tick=False)
    already_read = notify(member)
    notification_mark_read(notification=already_read, user=member)
    unread = [notify(member), notify(member)]
    theirs = notify(other_member)
    time_machine.shift(timedelta(hours=1))

    assert notification_mark_all_read(user=member) == 2

    for notification in [already_read, *unread, theirs]:
        notification.refresh_from_db()
    assert already_read.read_at == NOON
    assert [notification.read_at for notification in unread] == [NOON + timedelta(hours=1)] * 2
    assert theirs.read_at is None
