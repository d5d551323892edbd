from celery import shared_task


@shared_task(name="core.heartbeat", ignore_result=True)
def heartbeat() -> None:
    from core.heartbeat import heartbeat_record

    heartbeat_record(name="beat")
