from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from monitoring import receivers
        from tenancy import signals

        signals.contract_started.connect(receivers.on_contract_started, dispatch_uid="monitoring.on_contract_started")
