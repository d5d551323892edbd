from celery import shared_task


@shared_task(name="maintenance.send_due_notices")
def send_due_notices() -> None:
    from django.utils import timezone

    from maintenance.services import notice_send_due

    notice_send_due(now=timezone.now())
