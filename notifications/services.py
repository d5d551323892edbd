"""The outbox: notices are rows written with the change they announce, then delivered at least once.

Redis only carries wake-ups. The rows in PostgreSQL are the truth, and the beat sweep (`notifications.deliver_due`
every few seconds) delivers whatever is due even when every wake-up was lost.
"""

import hashlib
import logging
import secrets
import smtplib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from core.exceptions import PermissionDeniedError
from core.tasks import PUBLISH_ONCE
from notifications.models import Notification, OutboxMessage
from notifications.tasks import deliver_due as deliver_due_task
from tenancy.models import User

logger = logging.getLogger(__name__)

# Longer than any task may hold a message (Celery kills a task after 300 s), so a message is never handed to a
# second worker while the first could still be sending it. A crashed worker's message waits this long.
CLAIM_LEASE = timedelta(minutes=10)
# A wake-up that is queued and not yet taken by a worker delivers whatever commits before the worker takes it, so
# while one waits no other is queued: a burst of commits (new tickets, a sweep's batches) costs one broker message.
# The marker expires after the beat sweep's interval, so a lost wake-up delays delivery by one interval at most.
WAKE_UP_PENDING_KEY = "notifications:wake-up-pending"
WAKE_UP_PENDING_SECONDS = 10
# Claimed together and sent over one connection to the mail server. Small enough that the last of a batch starts well
# within its lease even if every e-mail before it waits for the mail server's whole timeout.
CLAIM_BATCH = 20
BACKOFF_FIRST_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
LAST_ERROR_MAX_LENGTH = 2000
# Sent messages deleted per transaction by `outbox_prune_sent`: short transactions, no long lock on the table.
PRUNE_BATCH = 5000


@dataclass(frozen=True)
class Notice:
    """One event to announce: the same text to each recipient, on each channel. Recipients given as a query are
    read by the insert itself on PostgreSQL."""

    event_key: str
    recipients: Iterable[User]
    subject: str
    body: str
    link: str = ""
    channels: Sequence[str] = (OutboxMessage.Channel.EMAIL, OutboxMessage.Channel.IN_APP)


def notification_enqueue(
    *,
    event_key: str,
    recipients: Iterable[User],
    subject: str,
    body: str,
    link: str = "",
    channels: Sequence[str] = (OutboxMessage.Channel.EMAIL, OutboxMessage.Channel.IN_APP),
) -> int:
    """Queue a notice for each active recipient on each channel; returns how many messages are new.

    Call it inside the transaction of the change it announces: the messages commit, or roll back, with it. An event
    enqueued again (a redelivered task, a double click, a sweep that runs twice) adds nothing.
    """
    return notification_enqueue_many(
        notices=[
            Notice(event_key=event_key, recipients=recipients, subject=subject, body=body, link=link, channels=channels)
        ]
    )


@transaction.atomic(savepoint=False)  # one insert: nothing to roll back partially, and no savepoint on hot paths
def notification_enqueue_many(*, notices: Sequence[Notice]) -> int:
    """`notification_enqueue` for many events at once (a sweep's batch): one insert, one wake-up."""
    rows: dict[str, _Row] = {}
    selected: list[Notice] = []
    for notice in notices:
        if unknown := set(notice.channels) - _CHANNELS:
            raise ValueError(f"Unknown notification channels: {sorted(unknown)}")
        if notice.link and not (notice.link.startswith("/") and not notice.link.startswith("//")):
            raise ValueError(f"A notification link is a path inside the portal, not {notice.link!r}")
        # One line: e-mail refuses a subject with a line break, and the message would only die after its retries.
        subject = " ".join(notice.subject.split())
        if isinstance(notice.recipients, QuerySet) and connection.vendor == "postgresql":
            selected.append(replace(notice, subject=subject))
            continue
        for recipient_id in sorted({user.pk for user in notice.recipients if user.is_active}):
            for channel in notice.channels:
                key = _key(notice.event_key, channel, recipient_id)
                rows[key] = _Row(key, channel, recipient_id, subject, notice.body, notice.link)
    # Sorted: concurrent enqueues then insert keys in the same order and cannot deadlock on the unique index.
    ordered = [rows[key] for key in sorted(rows)]
    inserted = _insert_new(ordered) if connection.vendor == "postgresql" else _insert_new_portably(ordered)
    inserted += sum(_insert_selected(notice) for notice in selected)
    if inserted:
        # Only a wake-up for quick delivery: the beat sweep delivers anyway, so a broker outage must not fail a
        # caller whose change has already committed (robust: the error is logged).
        transaction.on_commit(outbox_wake_up, robust=True)
    return inserted


class _Row(NamedTuple):
    idempotency_key: str
    channel: str
    recipient_id: int
    subject: str
    body: str
    link: str


_CHANNELS = frozenset(OutboxMessage.Channel.values)
_INSERT_CHUNK = 5000
_INSERT_NEW = (
    f"INSERT INTO {OutboxMessage._meta.db_table} "  # noqa: S608 (our own table name)
    "(idempotency_key, channel, recipient_id, subject, body, link, status, attempts, next_attempt_at, last_error, "
    "created_at) "
    "SELECT key, channel, recipient_id, subject, body, link, %s, 0, %s, '', %s "
    "FROM unnest(%s::varchar[], %s::varchar[], %s::bigint[], %s::text[], %s::text[], %s::varchar[]) "
    "AS row(key, channel, recipient_id, subject, body, link) "
    "ORDER BY key "
    "ON CONFLICT (idempotency_key) DO NOTHING"
)


def _key(event_key: str, channel: str, recipient_id: int) -> str:
    return f"{event_key}:{channel}:{recipient_id}"


# `_key` in SQL, the rows in the order Python sorts keys (byte order: the "C" collation), one per active recipient
# of the query and channel.
_INSERT_SELECTED = (
    f"INSERT INTO {OutboxMessage._meta.db_table} "  # noqa: S608 (our own table name)
    "(idempotency_key, channel, recipient_id, subject, body, link, status, attempts, next_attempt_at, last_error, "
    "created_at) "
    "SELECT key, channel, recipient_id, %s, %s, %s, %s, 0, %s, '', %s FROM ("
    "SELECT %s || ':' || channel || ':' || recipient.id AS key, channel, recipient.id AS recipient_id "
    "FROM ({recipients}) AS recipient(id) CROSS JOIN unnest(%s::varchar[]) AS channel"
    ') AS row ORDER BY key COLLATE "C" '
    "ON CONFLICT (idempotency_key) DO NOTHING"
)


def _insert_selected(notice: Notice) -> int:
    """PostgreSQL: a notice whose recipients are a query goes to them in the same statement that finds them."""
    assert isinstance(notice.recipients, QuerySet)
    active = notice.recipients.filter(is_active=True).order_by().values("pk")
    recipients, recipient_params = active.query.sql_with_params()
    now = timezone.now()
    message: list[Any] = [notice.subject, notice.body, notice.link, OutboxMessage.Status.PENDING, now, now]
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_SELECTED.format(recipients=recipients),
            [*message, notice.event_key, *recipient_params, list(notice.channels)],
        )
        return int(cursor.rowcount)


def _insert_new(rows: list[_Row]) -> int:
    """PostgreSQL: one statement per few thousand rows, arrays in and no model objects, with rows already there
    (the same event enqueued again, or a concurrent caller's) left as they are. Returns how many were new."""
    now = timezone.now()
    inserted = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _INSERT_CHUNK):
            columns = [list(column) for column in zip(*rows[start : start + _INSERT_CHUNK], strict=True)]
            cursor.execute(_INSERT_NEW, [OutboxMessage.Status.PENDING, now, now, *columns])
            inserted += cursor.rowcount
    return inserted


def _insert_new_portably(rows: list[_Row]) -> int:
    existing = set(
        OutboxMessage.objects.filter(idempotency_key__in=[row.idempotency_key for row in rows]).values_list(
            "idempotency_key", flat=True
        )
    )
    new = [OutboxMessage(**row._asdict()) for row in rows if row.idempotency_key not in existing]
    # A concurrent caller may insert the same keys between the read above and this insert: its rows win.
    OutboxMessage.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    return len(new)


@transaction.atomic
def outbox_claim(*, now: datetime, limit: int, lease: timedelta) -> list[int]:
    """Lease up to `limit` due pending messages to the caller and count the attempt; returns their ids.

    Rows that another claimer has locked are skipped, not waited for; leased rows are skipped until the lease ends.
    """
    message_ids = list(
        OutboxMessage.objects.select_for_update(skip_locked=True)
        .filter(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    OutboxMessage.objects.filter(pk__in=message_ids).update(leased_until=now + lease, attempts=F("attempts") + 1)
    return message_ids


def outbox_deliver(*, message_id: int, now: datetime) -> bool:
    """Deliver one claimed message; True when this call marked it sent (see `_deliver_claimed`)."""
    return _deliver_claimed([message_id], now=now) == 1


def outbox_wake_up() -> None:
    """Ask a worker to deliver due messages soon, unless a wake-up is already waiting for one."""
    if cache.add(WAKE_UP_PENDING_KEY, True, timeout=WAKE_UP_PENDING_SECONDS):
        # Published once, never retried: a lost wake-up costs one beat interval, retries would hold up the request.
        deliver_due_task.apply_async(retry_policy=PUBLISH_ONCE)


def outbox_deliver_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Deliver up to `limit` due messages; returns how many were sent.

    They are claimed CLAIM_BATCH at a time, so a batch's leases all start just before its own delivery.
    """
    # Taken before the first claim: a message committed from now on may be missed by this run, so it wakes another.
    cache.delete(WAKE_UP_PENDING_KEY)
    sent = handled = 0
    while handled < limit:
        moment = now or timezone.now()
        claimed = outbox_claim(now=moment, limit=min(CLAIM_BATCH, limit - handled), lease=CLAIM_LEASE)
        if not claimed:
            break
        handled += len(claimed)
        sent += _deliver_claimed(claimed, now=moment)
    return sent


def _deliver_claimed(message_ids: list[int], *, now: datetime) -> int:
    """Deliver claimed messages in order, the e-mails over one connection to the mail server; how many this call
    marked sent.

    Runs outside any transaction, so no row stays locked while a mail server is slow. A worker that dies between
    sending and marking leaves the message to be sent again after its lease: delivery is at least once, and an
    in-app notice is made only once whatever happens. A message that fails waits for its retry and the others go on;
    a soft time limit also hands back, unattempted, the messages after it.
    """
    messages = list(
        OutboxMessage.objects.select_related("recipient")
        .filter(pk__in=message_ids, status=OutboxMessage.Status.PENDING)  # not a recipient deleted meanwhile
        .order_by("next_attempt_at", "pk")
    )
    sent = 0
    mail = get_connection()
    try:
        for position, message in enumerate(messages):
            try:
                if message.channel == OutboxMessage.Channel.EMAIL:
                    _email_send(message=message, mail=mail)
                else:
                    _notification_create(message=message)
            except SoftTimeLimitExceeded as error:  # the task is out of time: stop rather than be killed holding one
                _outbox_failure_record(message=message, error=error, now=now)
                _outbox_release(messages[position + 1 :], now=now)
                raise
            except Exception as error:  # whatever went wrong, this message waits for its retry and the others go on
                logger.exception(
                    "Delivering outbox message %s (attempt %s) failed", message.idempotency_key, message.attempts
                )
                _outbox_failure_record(message=message, error=error, now=now)
                if message.channel == OutboxMessage.Channel.EMAIL:
                    _mail_close(mail)  # the next e-mail starts on a fresh connection
                continue
            # Conditional, so a stale lease holder that also got through cannot mark the message a second time.
            sent += OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.PENDING).update(
                status=OutboxMessage.Status.SENT, sent_at=now, leased_until=None
            )
    finally:
        _mail_close(mail)
    return sent


def _outbox_release(messages: list[OutboxMessage], *, now: datetime) -> None:
    """Hand claimed messages back unattempted: no lease, and the claim's attempt not counted. Fenced by the lease
    this claim set, so a message another worker claimed since is left alone."""
    OutboxMessage.objects.filter(
        pk__in=[message.pk for message in messages],
        status=OutboxMessage.Status.PENDING,
        leased_until=now + CLAIM_LEASE,
    ).update(leased_until=None, attempts=F("attempts") - 1)


def _mail_close(mail: BaseEmailBackend) -> None:
    # Every message it carried is already marked sent: a server that fails to say goodbye changes nothing.
    try:
        mail.close()
    except (OSError, smtplib.SMTPException):
        logger.warning("Closing the connection to the mail server failed", exc_info=True)


@transaction.atomic
def outbox_retry(*, message: OutboxMessage) -> bool:
    """Give a dead message a fresh set of attempts (the admin's action); False when it was not dead."""
    revived = OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.DEAD).update(
        status=OutboxMessage.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), leased_until=None
    )
    if revived:
        transaction.on_commit(outbox_wake_up, robust=True)
    return revived == 1


def outbox_prune_sent(*, now: datetime, retention: timedelta, batch: int = PRUNE_BATCH) -> int:
    """Delete e-mail messages sent more than `retention` ago, `batch` rows per transaction; how many were deleted.

    A sent e-mail's row only proves it went out (and what it said); its key stops guarding against a second copy once
    the change it announced is long committed, since events are enqueued in that change's transaction. In-app messages
    stay: each is the source of a notice in its recipient's list, which deleting it would take along. Pending and
    dead messages are never pruned. No index on `sent_at`: an hourly scan of the table costs less than one more index
    for every delivery to update.
    """
    deleted = 0
    while True:
        with transaction.atomic():
            old = OutboxMessage.objects.filter(
                channel=OutboxMessage.Channel.EMAIL, status=OutboxMessage.Status.SENT, sent_at__lt=now - retention
            )
            ids = list(old.values_list("pk", flat=True)[:batch])
            deleted += OutboxMessage.objects.filter(pk__in=ids).delete()[0]
        if len(ids) < batch:
            return deleted


@transaction.atomic
def notification_mark_read(*, notification: Notification, user: User) -> None:
    if notification.recipient_id != user.pk:
        raise PermissionDeniedError("This notice belongs to someone else.")
    # Reading it again keeps the first time it was read.
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def notification_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def _email_send(*, message: OutboxMessage, mail: BaseEmailBackend) -> None:
    body = message.body
    if message.link:
        body += f"\n\n{settings.PORTAL_BASE_URL.rstrip('/')}{message.link}"
    # A resend after a crash carries the same Message-ID, so mail clients that deduplicate show it once.
    digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()
    domain = urlsplit(settings.PORTAL_BASE_URL).hostname or "walt-portal"
    # Opened here, not by the send: a backend closes after the send a connection that the send opened itself.
    mail.open()
    EmailMessage(
        subject=message.subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient.email],
        headers={"Message-ID": f"<{digest}@{domain}>"},
        connection=mail,
    ).send()


def _notification_create(*, message: OutboxMessage) -> None:
    # ON CONFLICT DO NOTHING on the notice's source: delivering a message again finds the notice it already made.
    Notification.objects.bulk_create(
        [
            Notification(
                source=message,
                recipient_id=message.recipient_id,
                subject=message.subject,
                body=message.body,
                link=message.link,
                # When it happened, not when delivery caught up after an outage: the list sorts newest first.
                created_at=message.created_at,
            )
        ],
        ignore_conflicts=True,
    )


def _outbox_failure_record(*, message: OutboxMessage, error: Exception, now: datetime) -> None:
    last_error = f"{type(error).__name__}: {error}"[:LAST_ERROR_MAX_LENGTH]
    # Fenced by the attempt count: if the lease expired and another worker claimed the message meanwhile, this
    # stale failure must not end that worker's lease.
    mine = OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.PENDING, attempts=message.attempts)
    if message.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        mine.update(status=OutboxMessage.Status.DEAD, leased_until=None, last_error=last_error)
        logger.error("Outbox message %s is dead after %s attempts", message.idempotency_key, message.attempts)
        return
    mine.update(next_attempt_at=now + _backoff(attempts=message.attempts), leased_until=None, last_error=last_error)


def _backoff(*, attempts: int) -> timedelta:
    delay = timedelta(seconds=min(BACKOFF_FIRST_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS))
    # Up to 10 % more, so messages that failed together do not all come back in the same second.
    return delay + delay * (secrets.randbelow(101) / 1000)
