import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from sla.models import Clock, PolicyVersion, Record
from sla.policy import validate_overrides
from sla.services import policy_version_create, sla_rebaseline_apply, sla_rebaseline_preview
from tenancy.models import Organization, User


class PolicyVersionForm(forms.ModelForm[PolicyVersion]):
    overrides = forms.JSONField(
        help_text='Only what differs from the package defaults, in seconds, e.g. {"first_response_seconds": '
        '{"*": 1800, "P1": 900}, "resolution_seconds": {"incident": {"P1": 7200}}, "warning_threshold": 0.8, '
        '"calendar": {"kind": "24x7"}, "maintenance_pauses": false}',
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
    )

    class Meta:
        model = PolicyVersion
        fields = ("organization", "overrides", "reason")

    def clean_overrides(self) -> Any:
        overrides = self.cleaned_data["overrides"]
        problems = validate_overrides(overrides)
        if problems:
            raise forms.ValidationError([f"{problem['path']}: {problem['detail']}" for problem in problems])
        return overrides


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin[PolicyVersion]):
    """Each save adds a version; versions are never edited, so the history stays true."""

    form = PolicyVersionForm
    list_display = ("organization", "number", "package", "reason", "created_by", "created_at")
    list_filter = ("contract__package",)
    search_fields = ("organization__name", "reason")
    list_select_related = ("organization", "contract", "created_by")
    actions = ("rebaseline_open_tickets",)

    @admin.display(description="Package")
    def package(self, version: PolicyVersion) -> str:
        return version.contract.get_package_display()

    def get_readonly_fields(self, request: HttpRequest, obj: PolicyVersion | None = None) -> tuple[str, ...]:
        return ("organization", "number", "contract", "overrides_pretty", "reason", "created_by") if obj else ()

    def get_fields(self, request: HttpRequest, obj: PolicyVersion | None = None) -> Any:
        return self.get_readonly_fields(request, obj) if obj else ("organization", "overrides", "reason")

    @admin.display(description="Overrides")
    def overrides_pretty(self, version: PolicyVersion) -> str:
        return json.dumps(version.overrides, indent=2, sort_keys=True)

    def has_delete_permission(self, request: HttpRequest, obj: PolicyVersion | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: PolicyVersion, form: Any, change: bool) -> None:
        assert isinstance(request.user, User)
        created = policy_version_create(
            organization=obj.organization,
            overrides=form.cleaned_data["overrides"],
            reason=form.cleaned_data["reason"],
            created_by=request.user,
            at=timezone.now(),
        )
        obj.pk = created.pk
        self.message_user(
            request,
            f"Version {created.number} applies to tickets opened from now on. Open tickets keep their deadlines "
            "unless you re-baseline them (action on this list).",
        )

    @admin.action(description="Re-baseline open tickets of the selected organizations (preview first)")
    def rebaseline_open_tickets(self, request: HttpRequest, queryset: QuerySet[PolicyVersion]) -> HttpResponse | None:
        organizations = list(Organization.objects.filter(pk__in=queryset.values("organization")).order_by("name"))
        now = timezone.now()
        if request.POST.get("confirmed") == "yes":
            moved = sum(len(sla_rebaseline_apply(organization=org, now=now)) for org in organizations)
            self.message_user(request, f"Re-baselined: {moved} deadlines moved.", messages.SUCCESS)
            return None
        previews = [(org, sla_rebaseline_preview(organization=org, now=now)) for org in organizations]
        context = {
            **self.admin_site.each_context(request),
            "title": "Re-baseline open tickets",
            "previews": previews,
            "queryset": queryset,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/sla/rebaseline_preview.html", context)


@admin.register(Clock)
class ClockAdmin(admin.ModelAdmin[Clock]):
    list_display = ("ticket", "kind", "epoch", "state", "due_at", "policy_version")
    list_filter = ("state", "kind")
    search_fields = ("ticket__reference",)
    list_select_related = ("ticket",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Clock | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Clock | None = None) -> bool:
        return False


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin[Record]):
    list_display = ("ticket", "kind", "clock_kind", "epoch", "due_at", "recorded_at", "detected_by")
    list_filter = ("kind", "clock_kind", "detected_by")
    search_fields = ("ticket__reference",)
    list_select_related = ("ticket",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Record | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Record | None = None) -> bool:
        return False
