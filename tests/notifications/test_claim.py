from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections

from notifications.models import OutboxMessage
from notifications.services import CLAIM_LEASE, outbox_claim
from tests.factories import UserFactory
from tests.notifications.conftest import outbox_email

NOON = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _message(recipient, key, *, due_at=NOON, **fields):
    return outbox_email(recipient, key, next_attempt_at=due_at, **fields)


@pytest.mark.django_db
def test_a_claim_leases_due_pending_messages_and_counts_the_attempt():
    recipient = UserFactory.create()
    due = _message(recipient, "due")
    _message(recipient, "later", due_at=NOON + timedelta(seconds=1))
    _message(recipient, "sent", status=OutboxMessage.Status.SENT)
    _message(recipient, "dead", status=OutboxMessage.Status.DEAD)
    _message(recipient, "leased", leased_until=NOON + timedelta(seconds=1))

    assert outbox_claim(now=NOON, limit=10, lease=CLAIM_LEASE) == [due.pk]

    due.refresh_from_db()
    assert (due.attempts, due.leased_until) == (1, NOON + CLAIM_LEASE)
    assert outbox_claim(now=NOON, limit=10, lease=CLAIM_LEASE) == []  # leased now


@pytest.mark.django_db
def test_a_claim_takes_the_longest_waiting_first_and_at_most_its_limit():
    recipient = UserFactory.create()
    newer = _message(recipient, "newer", due_at=NOON - timedelta(minutes=1))
    older = _message(recipient, "older", due_at=NOON - timedelta(minutes=2))
    _message(recipient, "newest", due_at=NOON)

    assert outbox_claim(now=NOON, limit=2, lease=CLAIM_LEASE) == [older.pk, newer.pk]


@pytest.mark.django_db
def test_an_expired_lease_can_be_claimed_again():
    message = _message(UserFactory.create(), "crashed", leased_until=NOON, attempts=1)

    assert outbox_claim(now=NOON, limit=10, lease=CLAIM_LEASE) == [message.pk]
    message.refresh_from_db()
    assert message.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_a_claim_skips_rows_another_transaction_has_locked():
    recipient = UserFactory.create()
    locked = _message(recipient, "locked")
    free = _message(recipient, "free")
    other = connections.create_connection("default")  # a second session, as a concurrent claimer has
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute("SELECT id FROM notifications_outboxmessage WHERE id = %s FOR UPDATE", [locked.pk])

            assert outbox_claim(now=NOON, limit=10, lease=CLAIM_LEASE) == [free.pk]

        locked.refresh_from_db()
        assert (locked.attempts, locked.leased_until) == (0, None)
    finally:
        other.rollback()
        other.close()
