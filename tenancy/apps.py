from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core import checks

        from tenancy.checks import check_tenant_owned_models

        checks.register(check_tenant_owned_models, checks.Tags.models)
