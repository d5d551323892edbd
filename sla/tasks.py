from celery import shared_task


@shared_task(name="sla.sweep", ignore_result=True)
def sweep() -> None:
    from sla.services import sla_sweep

    sla_sweep()


@shared_task(name="sla.apply_maintenance_pauses", ignore_result=True)
def apply_maintenance_pauses() -> None:
    from sla.services import sla_maintenance_pauses_apply

    sla_maintenance_pauses_apply()
