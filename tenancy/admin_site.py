"""The Django admin site of the portal: Django's own, except that changing one's password revokes one's API tokens."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.views import PasswordChangeView
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from tenancy.passwords import StaffOwnPasswordChangeForm


class PortalAdminSite(admin.AdminSite):
    def password_change(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        # Django's own page, through the form that also revokes API tokens (Django fixes its form class here).
        request.current_app = self.name
        view = PasswordChangeView.as_view(
            form_class=StaffOwnPasswordChangeForm,
            success_url=reverse("admin:password_change_done", current_app=self.name),
            extra_context={**self.each_context(request), **(extra_context or {})},
        )
        return view(request)  # type: ignore[return-value]  # the stubs say TemplateResponse; a success redirects
