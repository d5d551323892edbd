import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.test.utils import isolate_apps
from rest_framework.views import APIView

from notifications.api.base import UserScopedApi
from tenancy.api.base import StaffApi, TenantApi
from tenancy.checks import check_tenant_owned_models
from tenancy.models import Membership, Organization
from walt_portal import urls as root_urls

ROOT = Path(__file__).resolve().parents[2]
APPS = ["core", "tenancy", "notifications", "maintenance", "tickets", "sla", "monitoring", "reports"]
# Endpoints anyone may call: signing in, the schema and its docs.
PUBLIC_APIS = {"AuthTokenApi", "SpectacularAPIView", "SpectacularSwaggerSplitView", "SpectacularJSONAPIView"}


def test_system_checks_are_clean():
    call_command("check", fail_level="WARNING")


def test_for_organization_refuses_none():
    with pytest.raises(ValueError, match="saved Organization"):
        Membership.objects.for_organization(None)


def test_for_organization_refuses_an_unsaved_organization():
    with pytest.raises(ValueError, match="saved Organization"):
        Membership.objects.for_organization(Organization(slug="unsaved"))


@isolate_apps("tickets")
def test_system_check_fails_a_tenant_app_model_without_organization():
    class Forgetful(models.Model):
        subject = models.CharField(max_length=10)

        class Meta:
            app_label = "tickets"

        def __str__(self) -> str:
            return self.subject

    original = apps.get_models
    try:
        apps.get_models = lambda *args, **kwargs: [*original(*args, **kwargs), Forgetful]  # type: ignore[method-assign]
        errors = check_tenant_owned_models()
    finally:
        apps.get_models = original  # type: ignore[method-assign]

    assert [error.id for error in errors] == ["tenancy.E001"]
    assert "tickets.Forgetful" in errors[0].msg


def _api_views():
    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns)
            else:
                view_class = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
                if view_class is not None and issubclass(view_class, APIView):
                    yield view_class

    return set(walk(root_urls.urlpatterns))


def test_every_api_view_resolves_the_tenant_or_is_staff_only_or_public():
    """UserScopedApi serves only the caller's own rows (their notices), so it needs no tenant."""
    unguarded = {
        view.__name__
        for view in _api_views()
        if not issubclass(view, TenantApi | StaffApi | UserScopedApi) and view.__name__ not in PUBLIC_APIS
    }

    assert unguarded == set()


@pytest.mark.parametrize("app", APPS)
def test_views_and_apis_never_query_models_directly(app):
    offenders = []
    for path in [ROOT / app / "views.py", *sorted((ROOT / app / "api").glob("*.py"))]:
        if not path.exists():
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "objects":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")

    assert offenders == [], "views and APIs read through selectors, which take the organization"
