from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest

from notifications.models import Notification, OutboxMessage
from notifications.services import notification_enqueue, outbox_deliver_due
from tenancy.models import User


@pytest.fixture
def notify(db) -> Callable[..., Notification]:
    """Deliver an in-app notice to `user` the way the product does: enqueue, then deliver what is due."""

    def make(user: User, *, subject: str = "Ticket ACME-1 was updated", link: str = "") -> Notification:
        event_key = f"test:{uuid4()}"
        notification_enqueue(
            event_key=event_key,
            recipients=[user],
            subject=subject,
            body="Ada replied.",
            link=link,
            channels=[OutboxMessage.Channel.IN_APP],
        )
        outbox_deliver_due()
        return Notification.objects.get(source__idempotency_key=f"{event_key}:in_app:{user.pk}")

    return make


def outbox_email(recipient: User, key: str, **fields: Any) -> OutboxMessage:
    """An e-mail notice written straight into the outbox, in the state `fields` give it."""
    return OutboxMessage.objects.create(
        idempotency_key=key,
        channel=OutboxMessage.Channel.EMAIL,
        recipient=recipient,
        subject="ACME-42: new reply",
        body="Eve replied.",
        **fields,
    )
