from celery import shared_task

# The retry policy of a message whose loss something else makes good (a periodic sweep, a request that does the work
# itself): published once and failing at once while the broker is down, instead of retried while a request waits.
PUBLISH_ONCE = {"max_retries": 0}


@shared_task(name="core.heartbeat", ignore_result=True)
def heartbeat() -> None:
    from core.heartbeat import heartbeat_record

    heartbeat_record(name="beat")
