from typing import Any

from django.apps import apps
from django.core import checks

from tenancy.models import TenantOwnedModel

TENANT_APPS = {"tenancy", "tickets", "sla", "monitoring", "maintenance", "reports"}
# Deliberate exceptions: rows that are not owned by one customer organization.
GLOBAL_MODELS = {
    "tenancy.User",
    "tenancy.Organization",
    # A person's API token serves them in every organization they belong to, like their password.
    "tenancy.ApiToken",
    # Maintenance windows and notices concern whole regions or several named organizations at once, and a banner
    # dismissal belongs to a person, not to one of their organizations.
    "maintenance.RecurringWindow",
    "maintenance.OneOffWindow",
    "maintenance.OccurrenceCancellation",
    "maintenance.Notice",
    "maintenance.NoticeDismissal",
}


def check_tenant_owned_models(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for model in apps.get_models():
        label = f"{model._meta.app_label}.{model.__name__}"
        needs_tenant = model._meta.app_label in TENANT_APPS and label not in GLOBAL_MODELS
        if needs_tenant and not issubclass(model, TenantOwnedModel):
            errors.append(
                checks.Error(
                    f"{label} lives in a tenant app but does not inherit TenantOwnedModel.",
                    hint="Inherit tenancy.models.TenantOwnedModel, or list it in tenancy.checks.GLOBAL_MODELS.",
                    obj=model,
                    id="tenancy.E001",
                )
            )
    return errors
