from datetime import datetime
from typing import TypedDict
from uuid import UUID

from django.db.models import BooleanField, Count, ExpressionWrapper, Min, Q, QuerySet

from notifications.models import Notification, OutboxMessage
from tenancy.models import User


class OutboxBacklog(TypedDict):
    pending: int
    oldest_due_age_seconds: float | None
    dead: int


def notification_list(*, user: User) -> QuerySet[Notification]:
    """The user's own notices: unread first, then newest first."""
    return (
        Notification.objects.filter(recipient=user)
        .annotate(unread=ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField()))
        .order_by("-unread", "-created_at", "-pk")
    )


def notification_unread_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user, read_at__isnull=True)


def notification_unread_count(*, user: User) -> int:
    return notification_unread_list(user=user).count()


def notification_get(*, user: User, public_id: UUID) -> Notification:
    # Raises Notification.DoesNotExist for another user's notice exactly as for a missing one: callers answer 404.
    return Notification.objects.filter(recipient=user).get(public_id=public_id)


def outbox_backlog(*, now: datetime) -> OutboxBacklog:
    """Pending messages, how long the most overdue one has waited past its due time, and dead letters."""
    pending = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).aggregate(
        count=Count("pk"), oldest_due=Min("next_attempt_at", filter=Q(next_attempt_at__lte=now))
    )
    oldest_due: datetime | None = pending["oldest_due"]
    return {
        "pending": pending["count"],
        "oldest_due_age_seconds": None if oldest_due is None else round((now - oldest_due).total_seconds(), 1),
        "dead": OutboxMessage.objects.filter(status=OutboxMessage.Status.DEAD).count(),
    }
