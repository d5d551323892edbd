from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from sla.models import Clock, Record
from tenancy.models import TenantOwnedModel


class ExclusionCategory(models.TextChoices):
    CUSTOMER_DELAY = "customer_delay", "Customer delay"
    AGREED_MAINTENANCE = "agreed_maintenance", "Agreed maintenance"
    OUTSIDE_SCOPE = "outside_scope", "Outside the contract's scope"
    DUPLICATE = "duplicate", "Duplicate of another ticket"
    OTHER = "other", "Other"


class BreachExclusion(TenantOwnedModel):
    """Whether WALT staff took a breach out of the compliance figures, and why: one row per breach, holding the
    latest decision. The breach itself is never touched, and every decision stays in `BreachExclusionChange`.

    `clock` repeats the record's clock (a clock has at most one breach) so reports join it to clocks directly.
    """

    record = models.OneToOneField(Record, on_delete=models.PROTECT, related_name="+")
    clock = models.OneToOneField(Clock, on_delete=models.PROTECT, related_name="breach_exclusion")
    excluded = models.BooleanField()
    category = models.CharField(max_length=32, choices=ExclusionCategory.choices, blank=True)
    reason = models.TextField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=~Q(reason=""), name="breachexclusion_has_reason"),
            models.CheckConstraint(
                condition=Q(excluded=False) | ~Q(category=""), name="breachexclusion_excluded_has_category"
            ),
        ]

    def __str__(self) -> str:
        return f"{'Excluded' if self.excluded else 'Counted'}: breach {self.record_id}"


class BreachExclusionChange(TenantOwnedModel):
    """One decision about a breach (excluded, or counted again), as it was made. Rows are only ever added."""

    class Action(models.TextChoices):
        EXCLUDED = "excluded", "Excluded"
        REINSTATED = "reinstated", "Counted again"

    exclusion = models.ForeignKey(BreachExclusion, on_delete=models.PROTECT, related_name="changes")
    action = models.CharField(max_length=16, choices=Action.choices)
    category = models.CharField(max_length=32, choices=ExclusionCategory.choices, blank=True)
    reason = models.TextField()
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar[list[str]] = ["changed_at", "pk"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["organization", "exclusion", "changed_at"], name="exclusionchange_org_exclusion"),
        ]

    def __str__(self) -> str:
        return f"{self.action} at {self.changed_at:%Y-%m-%d %H:%M}"
