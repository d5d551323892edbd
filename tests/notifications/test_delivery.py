import smtplib
from datetime import UTC, datetime, timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from notifications.models import Notification, OutboxMessage
from notifications.services import (
    CLAIM_LEASE,
    notification_enqueue,
    outbox_claim,
    outbox_deliver,
    outbox_deliver_due,
    outbox_retry,
    outbox_wake_up,
)
from notifications.tasks import deliver_due

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


class RefusingEmailBackend(BaseEmailBackend):
    """The mail server at the edge of the world, answering "try again later"."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPException("451 4.3.0 Mail server temporarily rejected message")


class OutOfTimeEmailBackend(BaseEmailBackend):
    """A mail server so slow that Celery's soft time limit strikes while the task waits for it."""

    def send_messages(self, email_messages):
        raise SoftTimeLimitExceeded


@pytest.fixture(autouse=True)
def _noon(time_machine):
    time_machine.move_to(NOON, tick=False)


def _enqueue(user, *, event_key="ticket-replied:ACME-42:7", channels=("email", "in_app")):
    return notification_enqueue(
        event_key=event_key,
        recipients=[user],
        subject="ACME-42: new reply",
        body="Eve replied to your ticket.",
        link="/o/acme/tickets/ACME-42/",
        channels=channels,
    )


def test_delivery_sends_one_email_and_makes_one_in_app_notice(member, settings):
    settings.PORTAL_BASE_URL = "https://support.walt-labs.example"
    _enqueue(member)

    assert outbox_deliver_due() == 2

    [email] = mail.outbox
    assert email.to == [member.email]
    assert email.from_email == settings.DEFAULT_FROM_EMAIL
    assert email.subject == "ACME-42: new reply"
    assert email.body == "Eve replied to your ticket.\n\nhttps://support.walt-labs.example/o/acme/tickets/ACME-42/"
    assert email.extra_headers["Message-ID"].endswith("@support.walt-labs.example>")
    notification = Notification.objects.get()
    assert (notification.recipient, notification.subject, notification.link, notification.read_at) == (
        member,
        "ACME-42: new reply",
        "/o/acme/tickets/ACME-42/",
        None,
    )
    assert set(OutboxMessage.objects.values_list("status", "attempts", "sent_at", "leased_until")) == {
        ("sent", 1, NOON, None)
    }


def test_delivering_again_sends_nothing_more(member):
    _enqueue(member)
    outbox_deliver_due()

    assert outbox_deliver_due() == 0
    assert [outbox_deliver(message_id=pk, now=NOON) for pk in OutboxMessage.objects.values_list("pk", flat=True)] == [
        False,
        False,
    ]
    assert len(mail.outbox) == 1
    assert Notification.objects.count() == 1


def test_a_stale_lease_holder_neither_sends_again_nor_marks_again(member, time_machine):
    _enqueue(member, channels=["email"])
    [stale] = outbox_claim(now=NOON, limit=10, lease=CLAIM_LEASE)  # this worker then hangs past its lease
    time_machine.move_to(NOON + CLAIM_LEASE + timedelta(seconds=1), tick=False)

    assert outbox_deliver_due() == 1  # another worker takes the message over and sends it
    assert outbox_deliver(message_id=stale, now=NOON + CLAIM_LEASE) is False

    assert len(mail.outbox) == 1
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts, message.sent_at) == ("sent", 2, NOON + CLAIM_LEASE + timedelta(seconds=1))


def test_a_worker_that_died_before_marking_sent_makes_no_second_in_app_notice(member):
    _enqueue(member, channels=["in_app"])
    outbox_deliver_due()
    # The notice was made but the worker died before recording "sent": the message is due again.
    OutboxMessage.objects.update(status="pending", sent_at=None)

    assert outbox_deliver_due() == 1

    assert Notification.objects.count() == 1
    assert OutboxMessage.objects.get().status == "sent"


def test_a_refused_email_is_retried_later_with_growing_back_off(member, settings, time_machine):
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.RefusingEmailBackend"
    _enqueue(member, channels=["email"])

    assert outbox_deliver_due() == 0

    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts, message.leased_until) == ("pending", 1, None)
    assert message.last_error == "SMTPException: 451 4.3.0 Mail server temporarily rejected message"
    assert NOON + timedelta(seconds=30) <= message.next_attempt_at <= NOON + timedelta(seconds=33)

    time_machine.move_to(NOON + timedelta(seconds=29), tick=False)
    outbox_deliver_due()
    assert OutboxMessage.objects.get().attempts == 1  # not due yet

    second_try = message.next_attempt_at
    time_machine.move_to(second_try, tick=False)
    outbox_deliver_due()
    message.refresh_from_db()
    assert message.attempts == 2
    assert second_try + timedelta(seconds=60) <= message.next_attempt_at <= second_try + timedelta(seconds=66)


def test_back_off_stops_growing_at_an_hour(member, settings, time_machine):
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.RefusingEmailBackend"
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 20
    _enqueue(member, channels=["email"])

    for _ in range(8):  # 30 s · 2**7 would be 64 minutes
        moment = OutboxMessage.objects.get().next_attempt_at
        time_machine.move_to(moment, tick=False)
        outbox_deliver_due()

    message = OutboxMessage.objects.get()
    assert message.attempts == 8
    assert moment + timedelta(hours=1) <= message.next_attempt_at <= moment + timedelta(hours=1.1)


def test_after_the_last_attempt_a_message_is_dead_until_an_admin_retries_it(member, settings, time_machine):
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.RefusingEmailBackend"
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    _enqueue(member, channels=["email"])
    for hour in range(4):
        time_machine.move_to(NOON + timedelta(hours=hour), tick=False)
        outbox_deliver_due()

    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts, message.leased_until) == ("dead", 3, None)
    assert message.last_error.startswith("SMTPException")

    settings.EMAIL_BACKEND = LOCMEM  # the mail server is back
    assert outbox_retry(message=message) is True
    assert outbox_retry(message=message) is False  # pending now, not dead
    assert outbox_deliver_due() == 1

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
    assert len(mail.outbox) == 1


def test_an_admin_retry_wakes_delivery_after_commit(member, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.RefusingEmailBackend"
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 1
    _enqueue(member, channels=["email"])
    outbox_deliver_due()

    with django_capture_on_commit_callbacks() as callbacks:
        outbox_retry(message=OutboxMessage.objects.get())

    assert callbacks == [outbox_wake_up]


def test_one_failing_message_does_not_hold_back_the_others(member, org_admin, settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.RefusingEmailBackend"
    _enqueue(member)
    _enqueue(org_admin)

    assert outbox_deliver_due() == 2  # both in-app notices, while both e-mails wait for their retry

    assert Notification.objects.count() == 2
    assert set(OutboxMessage.objects.values_list("channel", "status")) == {("in_app", "sent"), ("email", "pending")}


def test_a_soft_time_limit_stops_the_batch_and_schedules_a_retry(member, org_admin, settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.OutOfTimeEmailBackend"
    _enqueue(member, event_key="first", channels=["email"])
    _enqueue(org_admin, event_key="second", channels=["email"])

    with pytest.raises(SoftTimeLimitExceeded):
        outbox_deliver_due()

    first = OutboxMessage.objects.get(idempotency_key__startswith="first")
    assert (first.status, first.attempts, first.leased_until) == ("pending", 1, None)
    assert first.next_attempt_at > NOON
    assert OutboxMessage.objects.get(idempotency_key__startswith="second").attempts == 0  # never claimed


def test_a_batch_delivers_at_most_its_limit(member, org_admin):
    _enqueue(member)
    _enqueue(org_admin)

    assert outbox_deliver_due(limit=3) == 3
    assert outbox_deliver_due(limit=3) == 1


def test_the_periodic_task_delivers_what_is_due(member):
    _enqueue(member)

    deliver_due()

    assert len(mail.outbox) == 1
    assert Notification.objects.count() == 1
