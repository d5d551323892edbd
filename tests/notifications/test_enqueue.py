import pytest
import redis
from django.conf import settings
from django.db import transaction

from notifications.models import OutboxMessage
from notifications.services import notification_enqueue, outbox_deliver_due, outbox_wake_up
from tenancy.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _enqueue(recipients, **overrides):
    arguments = {
        "event_key": "ticket-replied:ACME-42:7",
        "recipients": recipients,
        "subject": "ACME-42: new reply",
        "body": "Eve replied to your ticket.",
        "link": "/o/acme/tickets/ACME-42/",
    }
    return notification_enqueue(**arguments | overrides)


def test_one_message_per_channel_and_recipient_with_a_deterministic_key(member, org_admin):
    assert _enqueue([member, org_admin]) == 4

    assert set(OutboxMessage.objects.values_list("idempotency_key", "channel", "recipient", "status")) == {
        (f"ticket-replied:ACME-42:7:{channel}:{user.pk}", channel, user.pk, "pending")
        for channel in ("email", "in_app")
        for user in (member, org_admin)
    }


def test_the_same_event_enqueued_again_adds_nothing(member, django_capture_on_commit_callbacks):
    _enqueue([member])
    before = list(OutboxMessage.objects.order_by("pk").values())

    with django_capture_on_commit_callbacks() as callbacks:
        assert _enqueue([member], subject="A retried sweep's subject") == 0

    assert list(OutboxMessage.objects.order_by("pk").values()) == before
    assert callbacks == []  # nothing new, nothing to wake up for


def test_a_repeated_event_with_a_new_recipient_adds_only_theirs(member, org_admin):
    _enqueue([member])

    assert _enqueue([member, org_admin]) == 2
    assert OutboxMessage.objects.filter(recipient=org_admin).count() == 2
    assert OutboxMessage.objects.count() == 4


def test_recipients_are_deduplicated_and_inactive_ones_skipped(member):
    inactive = UserFactory.create(is_active=False)

    assert _enqueue([member, member, inactive], channels=["email"]) == 1
    assert list(OutboxMessage.objects.values_list("recipient", flat=True)) == [member.pk]


def test_recipients_given_as_a_query_get_the_same_messages_as_a_list(member, org_admin):
    inactive = UserFactory.create(is_active=False)
    everyone = User.objects.filter(pk__in=[member.pk, org_admin.pk, inactive.pk])

    assert _enqueue(everyone) == 4
    queried = set(OutboxMessage.objects.values_list("idempotency_key", "channel", "recipient", "subject", "link"))

    assert _enqueue([member, org_admin, inactive]) == 0  # the same keys: nothing new
    OutboxMessage.objects.all().delete()
    assert _enqueue([member, org_admin, inactive]) == 4
    assert set(OutboxMessage.objects.values_list("idempotency_key", "channel", "recipient", "subject", "link")) == (
        queried
    )


def test_delivery_is_woken_up_after_commit(member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        _enqueue([member])

    assert callbacks == [outbox_wake_up]


def _wake_ups_queued() -> int:
    with redis.Redis.from_url(settings.CELERY_BROKER_URL) as broker:
        return int(broker.llen("notifications"))


def test_commits_while_a_wake_up_waits_queue_no_other_until_a_worker_takes_it(
    member, django_capture_on_commit_callbacks
):
    queued = _wake_ups_queued()
    for event_key in ("first", "second", "third"):
        with django_capture_on_commit_callbacks(execute=True):
            _enqueue([member], event_key=event_key)
    assert _wake_ups_queued() == queued + 1

    outbox_deliver_due()  # what the woken worker runs: from here on, a commit needs a wake-up of its own
    with django_capture_on_commit_callbacks(execute=True):
        _enqueue([member], event_key="fourth")

    assert _wake_ups_queued() == queued + 2


class CallerChangeFailedError(Exception):
    pass


def _a_change_that_fails_after_enqueuing(recipient):
    with transaction.atomic():
        _enqueue([recipient])
        raise CallerChangeFailedError


def test_messages_roll_back_with_the_callers_change(member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(CallerChangeFailedError):
        _a_change_that_fails_after_enqueuing(member)

    assert not OutboxMessage.objects.exists()
    assert callbacks == []


@pytest.mark.parametrize("link", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_a_link_must_be_a_path_inside_the_portal(member, link):
    with pytest.raises(ValueError, match="path inside the portal"):
        _enqueue([member], link=link)


def test_an_unknown_channel_is_a_programming_error(member):
    with pytest.raises(ValueError, match="sms"):
        _enqueue([member], channels=["email", "sms"])


def test_a_subject_is_kept_to_one_line_however_long(member):
    _enqueue([member], subject="ACME-42: the backup\r\nfailed   again " + "x" * 300, channels=["email"])

    assert OutboxMessage.objects.get().subject == "ACME-42: the backup failed again " + "x" * 300
