from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict
from uuid import UUID

from django.db.models import BooleanField, Count, ExpressionWrapper, Min, Q, QuerySet

from notifications.models import Notification, OutboxMessage
from tenancy.models import User

# Beyond this many unread notices the header's bell says "99+". An engineer on duty is told of every breach, and a
# count of all their unread notices on every page would cost more the longer nobody reads them.
BELL_COUNT_CAP = 99


@dataclass(frozen=True)
class UnreadBell:
    """The header bell's count as it shows it: the number, or "99+" beyond BELL_COUNT_CAP."""

    counted: int  # at most BELL_COUNT_CAP + 1

    def __bool__(self) -> bool:
        return self.counted > 0

    def __str__(self) -> str:
        return f"{BELL_COUNT_CAP}+" if self.counted > BELL_COUNT_CAP else str(self.counted)


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


def notification_bell_ids(*, user: User) -> QuerySet[Notification, Any]:
    """What the bell counts: the ids of the user's unread notices, no more than one past BELL_COUNT_CAP (read from
    the unread index alone, however many there are)."""
    return notification_unread_list(user=user).order_by().values("pk")[: BELL_COUNT_CAP + 1]


def notification_bell(*, user: User) -> UnreadBell:
    return UnreadBell(notification_bell_ids(user=user).count())


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
