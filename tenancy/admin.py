from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.http import HttpRequest

from tenancy.models import AccessGrant, ApiToken, Contract, Membership, Organization, User
from tenancy.passwords import UserPasswordSetForm
from tenancy.selectors import contract_latest
from tenancy.services import api_token_revoke_all, contract_start


class PortalUserCreationForm(UserCreationForm[User]):
    class Meta:
        model = User
        fields = ("email",)


class PortalUserChangeForm(UserChangeForm[User]):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):  # type: ignore[type-var]  # same admin surface as AbstractUser
    form = PortalUserChangeForm
    add_form = PortalUserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "staff_role", "on_duty", "is_active", "last_login")
    list_filter = ("staff_role", "on_duty", "is_active", "is_superuser")
    search_fields = ("email", "full_name")
    readonly_fields = ("public_id", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password", "public_id")}),
        ("Person", {"fields": ("full_name", "timezone")}),
        ("WALT staff", {"fields": ("staff_role", "on_duty", "is_superuser")}),
        ("Status", {"fields": ("is_active", "last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ()
    change_password_form = UserPasswordSetForm

    def save_model(self, request: HttpRequest, obj: User, form: forms.ModelForm[User], change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            api_token_revoke_all(user=obj)  # a deactivated account keeps no way in, should it be activated again


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Support admins see who holds tokens, and when each was last used, and revoke them (delete); tokens are issued
    only through the API."""

    list_display = ("user", "token_hint", "created_at", "last_used_at")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    fields = ("user", "token_hint", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False


class MembershipInline(admin.TabularInline[Membership, Organization]):
    model = Membership
    fk_name = "organization"
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)


class ContractInline(admin.TabularInline[Contract, Organization]):
    """Versions are history: read-only here; a new version is started from the Contracts page."""

    model = Contract
    extra = 0
    can_delete = False
    fields = ("package", "effective_from", "effective_to", "created_by", "note")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin[Organization]):
    list_display = ("name", "slug", "region", "timezone", "created_at")
    list_filter = ("region",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (ContractInline, MembershipInline)


class ContractStartForm(forms.ModelForm[Contract]):
    class Meta:
        model = Contract
        fields = ("organization", "package", "effective_from", "note")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        organization, effective_from = cleaned.get("organization"), cleaned.get("effective_from")
        latest = contract_latest(organization=organization) if organization else None
        if latest is not None and effective_from is not None and effective_from <= latest.effective_from:
            self.add_error("effective_from", f"Choose a moment after {latest.effective_from:%Y-%m-%d %H:%M} UTC.")
        return cleaned


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin[Contract]):
    """Adding a contract starts a new version through the service, which ends the version in force."""

    form = ContractStartForm
    list_display = ("organization", "package", "effective_from", "effective_to", "created_by")
    list_filter = ("package",)
    search_fields = ("organization__name", "organization__slug")
    autocomplete_fields = ("organization",)

    def has_change_permission(self, request: HttpRequest, obj: Contract | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Contract | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Contract, form: Any, change: bool) -> None:
        assert isinstance(request.user, User)
        started = contract_start(
            organization=obj.organization,
            package=obj.package,
            effective_from=obj.effective_from,
            created_by=request.user,
            note=obj.note,
        )
        obj.pk = started.pk


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "organization__name")
    autocomplete_fields = ("user", "organization")


@admin.register(AccessGrant)
class AccessGrantAdmin(admin.ModelAdmin[AccessGrant]):
    """Grants are recorded and revoked by the customer's admins in the portal; here they are read."""

    list_display = ("organization", "scope", "valid_from", "valid_until", "revoked_at", "created_by")
    list_filter = ("revoked_at",)
    search_fields = ("organization__name", "scope")
    readonly_fields = (
        "organization",
        "scope",
        "credentials_reference",
        "valid_from",
        "valid_until",
        "created_by",
        "revoked_at",
        "revoked_by",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AccessGrant | None = None) -> bool:
        return False
