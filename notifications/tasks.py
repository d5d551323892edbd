from celery import shared_task

DELIVER_BATCH = 100


@shared_task(name="notifications.deliver_due")
def deliver_due() -> None:
    from notifications.services import outbox_deliver_due

    # A full batch sent means a backlog (a sweep that catches up queues hundreds of notices behind one wake-up): keep
    # draining now instead of one batch per beat tick. Failures end the chain, so a mail outage cannot spin it.
    if outbox_deliver_due(limit=DELIVER_BATCH) >= DELIVER_BATCH:
        deliver_due.delay()


@shared_task(name="notifications.prune_sent")
def prune_sent() -> None:
    from django.conf import settings
    from django.utils import timezone

    from notifications.services import outbox_prune_sent

    outbox_prune_sent(now=timezone.now(), retention=settings.NOTIFICATIONS_SENT_RETENTION)
