from celery import shared_task


@shared_task(name="monitoring.process_event")
def process_event(event_id: int) -> None:
    import logging

    from monitoring.services import inbound_event_fail, inbound_event_process

    try:
        inbound_event_process(event_id=event_id)
    except Exception as error:
        # The event stays pending (until its attempts run out); the sweep tries it again in a minute.
        logging.getLogger(__name__).exception("Monitoring event %s failed", event_id)
        inbound_event_fail(event_id=event_id, error=repr(error))


@shared_task(name="monitoring.sweep_events")
def sweep_events() -> None:
    from django.utils import timezone

    from monitoring.services import inbound_event_sweep

    inbound_event_sweep(now=timezone.now())


@shared_task(name="monitoring.release_suppressed")
def release_suppressed() -> None:
    from django.utils import timezone

    from monitoring.services import alert_release_suppressed

    alert_release_suppressed(now=timezone.now())
