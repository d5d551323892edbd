"""Delivery through Django's real SMTP backend to a mail server run in the test (the edge of the world): a batch of
e-mails shares one connection, and a server that accepts a message and then fails to say goodbye has it sent once."""

from collections.abc import Iterator

import pytest

from notifications.models import OutboxMessage
from notifications.services import CLAIM_BATCH, notification_enqueue, outbox_deliver_due
from tests.factories import UserFactory
from tests.processes.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db


@pytest.fixture
def sink(settings) -> Iterator[SmtpSink]:
    server = SmtpSink()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_TIMEOUT = 1  # the goodbye that never comes is given up quickly
    try:
        yield server
    finally:
        server.close()


def _enqueue_emails(count: int) -> None:
    notification_enqueue(
        event_key="ticket-opened:ACME-7",
        recipients=UserFactory.create_batch(count),
        subject="ACME-7: new ticket",
        body="A new P1 incident.",
        channels=[OutboxMessage.Channel.EMAIL],
    )


def test_a_batch_of_emails_goes_over_one_connection(sink):
    _enqueue_emails(CLAIM_BATCH + 5)

    assert outbox_deliver_due() == CLAIM_BATCH + 5

    assert len(sink.message_ids()) == len(set(sink.message_ids())) == CLAIM_BATCH + 5
    assert sink.sessions == 2  # one per batch claimed
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}


def test_a_server_that_accepts_and_then_hangs_at_goodbye_has_each_message_once(sink):
    _enqueue_emails(3)
    sink.stall_next("quit")

    assert outbox_deliver_due() == 3
    assert outbox_deliver_due() == 0

    assert len(sink.message_ids()) == 3
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("sent", 1)}


def test_a_server_that_is_down_fails_each_email_for_its_retry(sink):
    _enqueue_emails(3)
    sink.stop()

    assert outbox_deliver_due() == 0

    messages = list(OutboxMessage.objects.all())
    assert {(message.status, message.attempts) for message in messages} == {("pending", 1)}
    assert all("Connection refused" in message.last_error for message in messages), messages[0].last_error
