from celery import shared_task


@shared_task(name="sla.sweep", ignore_result=True)
def sweep() -> None:
    from sla.services import sla_sweep

    sla_sweep()
