import smtplib

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from notifications.models import OutboxMessage
from notifications.services import notification_enqueue, outbox_deliver_due

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/notifications/outboxmessage/"


class RefusingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPException("554 5.7.1 Relay access denied")


@pytest.fixture
def dead_message(member, settings) -> OutboxMessage:
    settings.EMAIL_BACKEND = "tests.notifications.test_admin.RefusingEmailBackend"
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 1
    notification_enqueue(event_key="ticket-replied:ACME-42:7", recipients=[member], subject="s", body="b")
    outbox_deliver_due()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return OutboxMessage.objects.get(channel="email", status="dead")


def test_support_admins_find_dead_letters_by_status_and_recipient(client, support_admin, dead_message, member):
    client.force_login(support_admin)

    dead = client.get(CHANGELIST, {"status__exact": "dead", "q": member.email})
    sent = client.get(CHANGELIST, {"status__exact": "sent"})

    assert dead.status_code == 200
    assert "ticket-replied:ACME-42:7:email:" in dead.content.decode()
    assert "ticket-replied:ACME-42:7:email:" not in sent.content.decode()
    assert "ticket-replied:ACME-42:7:in_app:" in sent.content.decode()


def test_the_retry_action_revives_dead_messages_only(client, support_admin, dead_message):
    sent = OutboxMessage.objects.get(channel="in_app")
    client.force_login(support_admin)

    response = client.post(
        CHANGELIST, {"action": "retry_dead", "_selected_action": [dead_message.pk, sent.pk]}, follow=True
    )

    assert "1 dead message(s) queued for delivery again." in response.content.decode()
    dead_message.refresh_from_db()
    assert (dead_message.status, dead_message.attempts) == ("pending", 0)
    assert OutboxMessage.objects.get(pk=sent.pk).status == "sent"


def test_delivery_records_are_read_only(client, support_admin, dead_message):
    client.force_login(support_admin)

    assert client.get(f"{CHANGELIST}{dead_message.pk}/change/").status_code == 200  # a view-only page
    assert client.post(f"{CHANGELIST}{dead_message.pk}/change/", {"status": "sent"}).status_code == 403
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.get("/admin/notifications/notification/add/").status_code == 403


def test_customers_do_not_reach_the_admin(client, member):
    client.force_login(member)

    assert client.get(CHANGELIST).status_code == 302
