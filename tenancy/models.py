import re
import uuid
import zoneinfo
from datetime import datetime
from typing import Any, ClassVar, Self, TypeVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models import Q

from core.models import TimestampedModel
from core.tokens import TOKEN_HASH_LENGTH

_M = TypeVar("_M", bound=models.Model)


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not an IANA timezone (for example Europe/Berlin).", code="invalid")


class Region(models.TextChoices):
    US = "US", "United States"
    EU = "EU", "European Union"


class Package(models.TextChoices):
    STANDARD = "standard", "Standard"
    PREMIUM = "premium", "Premium"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra_fields: Any) -> "User":
        if not email:
            raise ValueError("Users need an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)  # None leaves the password unusable until an invitation is accepted
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra_fields: Any) -> "User":
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("staff_role", User.StaffRole.SUPPORT_ADMIN)
        return self.create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an e-mail address: a customer (through memberships) or WALT staff."""

    class StaffRole(models.TextChoices):
        NONE = "", "Customer"
        SUPPORT_ENGINEER = "support_engineer", "Support engineer"
        SUPPORT_ADMIN = "support_admin", "Support admin"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    staff_role = models.CharField(max_length=32, choices=StaffRole.choices, blank=True, default=StaffRole.NONE)
    on_duty = models.BooleanField(default=False, help_text="Receives new-ticket notices while on duty.")
    is_service_account = models.BooleanField(
        default=False, help_text="A system identity (such as monitoring): never notified, never assigned."
    )
    timezone = models.CharField(
        max_length=64, blank=True, validators=[validate_timezone], help_text="Display timezone; empty uses the default."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[UserManager] = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A new password, however it was set (a reset link, the admin, `manage.py changepassword`, a shell), ends the
        # person's API tokens with it: one issued to whoever knew the old password must not outlive it. Django keeps
        # the new password in `_password` until the save, and clears it when it only re-hashes one at sign-in.
        new_password = self._password  # type: ignore[attr-defined]  # Django's own attribute, not in the stubs
        password_set = new_password is not None and not self._state.adding
        with transaction.atomic():
            super().save(*args, **kwargs)
            if password_set:
                ApiToken.objects.filter(user=self).delete()

    @property
    def is_walt_staff(self) -> bool:
        """WALT employees (support engineers and admins) work across every organization."""
        return self.is_active and (self.is_superuser or self.staff_role != self.StaffRole.NONE)

    @property
    def is_support_admin(self) -> bool:
        return self.is_active and (self.is_superuser or self.staff_role == self.StaffRole.SUPPORT_ADMIN)

    @property
    def is_staff(self) -> bool:
        # Django admin access: support admins run contracts, overrides and windows there.
        return self.is_support_admin

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return self.is_support_admin or super().has_perm(perm, obj)

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_support_admin or super().has_module_perms(app_label)

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


reference_prefix_validator = RegexValidator(
    r"^[A-Z0-9]+(-[A-Z0-9]+)*$", "Use capitals, digits and single hyphens, like ACME or ACME-EU."
)


def reference_prefix_from_slug(slug: str) -> str:
    return "-".join(part for part in re.split(r"[^A-Z0-9]+", slug.upper()) if part)[:16] or "ORG"


class Organization(TimestampedModel):
    """A customer of WALT Labs: the tenant every customer-owned row belongs to."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True)
    reference_prefix = models.CharField(
        max_length=16,
        unique=True,
        validators=[reference_prefix_validator],
        help_text="Starts every ticket reference of the organization, as in ACME-42.",
    )
    region = models.CharField(max_length=2, choices=Region.choices)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])

    class Meta:
        ordering: ClassVar[list[str]] = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantQuerySet(models.QuerySet[_M]):
    def for_organization(self, organization: Organization | None) -> Self:
        # Fail closed: a missing tenant is a bug, never "all tenants".
        if organization is None or organization.pk is None:
            raise ValueError("for_organization() needs a saved Organization")
        return self.filter(organization=organization)


class TenantOwnedModel(TimestampedModel):
    """Base for every row that belongs to exactly one customer organization.

    The default manager stays unfiltered (Django's related-object access, the admin and sweeps need it);
    tenant reads go through selectors that call `for_organization()`.
    """

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class Membership(TenantOwnedModel):
    """A person's place in an organization.

    The invitation e-mail a new person is owed belongs to the membership: it names the organization, a person invited
    by two organizations is owed two, and removing the membership takes the debt with it. The debt is recorded here,
    in the transaction that adds the member, and `tenancy.invitations` pays it, so a lost broker message delays the
    e-mail but never loses it.
    """

    class Role(models.TextChoices):
        ADMIN = "admin", "Customer admin"
        MEMBER = "member", "Customer member"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    invitation_due_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the invitation e-mail is next to be tried; empty when none is owed (sent, not needed, or "
        "given up after repeated failures).",
    )
    invitation_attempts = models.PositiveIntegerField(default=0, editable=False)
    invitation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_one_per_user_and_org"),
        ]
        indexes: ClassVar[list[models.Index]] = [
            # The invitation sweep reads only owed invitations, a handful among every membership.
            models.Index(
                fields=["invitation_due_at"],
                condition=Q(invitation_due_at__isnull=False),
                name="membership_invitation_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    @property
    def status_label(self) -> str:
        """What the members pages say of the person: signed up, or how their invitation e-mail stands."""
        if self.user.has_usable_password():
            return "Active"
        if self.invitation_sent_at is not None:
            return "Invitation sent"
        if self.invitation_due_at is not None:
            return "Invitation on its way"
        return "Invitation not delivered: remove and invite again"

    def clean(self) -> None:
        if self.user_id is not None and self.user.is_walt_staff:
            raise ValidationError({"user": "WALT staff work across every organization and cannot be members of one."})


class Contract(TenantOwnedModel):
    """One version of an organization's contract. Versions are never edited away: a change ends the
    current version and starts a new one, so the history of packages stays readable."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    package = models.CharField(max_length=16, choices=Package.choices)
    effective_from = models.DateTimeField()
    effective_to = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.TextField(blank=True)
    terms_revision = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Moves whenever terms attached to the contract change (its SLA overrides): what a reader derives "
        "from the contract it may keep under this number.",
    )

    class Meta:
        ordering: ClassVar[list[str]] = ["organization", "-effective_from"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["organization"], condition=Q(effective_to__isnull=True), name="contract_one_open_ended_per_org"
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gt=models.F("effective_from")),
                name="contract_ends_after_it_starts",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["organization", "effective_from"], name="contract_org_from"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.get_package_display()} from {self.effective_from:%Y-%m-%d}"

    def is_active_at(self, moment: datetime) -> bool:
        return self.effective_from <= moment and (self.effective_to is None or moment < self.effective_to)


class AccessGrant(TenantOwnedModel):
    """A Premium customer's permission for WALT engineers to change their environment.

    Credentials are never stored: `credentials_reference` says where the customer shares them (a vault
    entry, a ticket in their own system). A grant is in force between `valid_from` and `valid_until`
    unless revoked; revoked grants stay as history.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    scope = models.TextField(help_text="What WALT may change, e.g. 'production Kubernetes cluster, namespace shop'.")
    credentials_reference = models.CharField(
        max_length=300, help_text="Where the credentials are shared, never the credentials themselves."
    )
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering: ClassVar[list[str]] = ["-valid_from"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(valid_until__gt=models.F("valid_from")), name="accessgrant_ends_after_start"
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["organization", "valid_until"], name="accessgrant_org_until"),
        ]

    def __str__(self) -> str:
        return f"{self.organization}: {self.scope[:60]}"

    def is_active_at(self, moment: datetime) -> bool:
        return self.revoked_at is None and self.valid_from <= moment < self.valid_until


class ApiToken(models.Model):
    """A token that signs a person in to the API (`Authorization: Token …`); a person may hold several.

    Only the token's SHA-256 is kept (`core.tokens`): whoever reads this table cannot call the API. The token
    itself is shown once, when it is issued. Revoking a token deletes its row.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    token_hash = models.CharField(max_length=TOKEN_HASH_LENGTH, unique=True)
    token_hint = models.CharField(max_length=4, help_text="The token's last characters, to tell tokens apart.")
    created_at = models.DateTimeField(auto_now_add=True, editable=False)
    last_used_at = models.DateTimeField(
        null=True, blank=True, help_text="When the token last signed a request in, to the hour; empty: never."
    )

    class Meta:
        verbose_name = "API token"
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["user", "created_at"], name="apitoken_user_created"),
        ]

    def __str__(self) -> str:
        return f"{self.user} …{self.token_hint}"
