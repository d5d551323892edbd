from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = "SLA"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sla import receivers
        from tickets import signals

        signals.ticket_opening.connect(receivers.on_ticket_opening, dispatch_uid="sla.on_ticket_opening")
        signals.ticket_opened.connect(receivers.on_ticket_opened, dispatch_uid="sla.on_ticket_opened")
        signals.ticket_replied.connect(receivers.on_ticket_replied, dispatch_uid="sla.on_ticket_replied")
        signals.ticket_status_changed.connect(
            receivers.on_ticket_status_changed, dispatch_uid="sla.on_ticket_status_changed"
        )
        signals.ticket_priority_changed.connect(receivers.on_ticket_retargeted, dispatch_uid="sla.on_priority_changed")
        signals.ticket_type_changed.connect(receivers.on_ticket_retargeted, dispatch_uid="sla.on_type_changed")
