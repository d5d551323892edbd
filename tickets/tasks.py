from datetime import datetime

from celery import shared_task
from django.utils import timezone


@shared_task(name="tickets.refresh_queue_counts")
def refresh_queue_counts(day_start: str) -> None:
    """Count the queue again for the engineers whose day starts at `day_start` (tickets.queue_counts)."""
    from tickets.queue_counts import queue_counts_store  # imported here: that module asks for this task

    queue_counts_store(now=timezone.now(), day_start=datetime.fromisoformat(day_start))
