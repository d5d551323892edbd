from typing import Any

from django import forms

from reports.models import ExclusionCategory
from reports.services import REASON_MAX_LENGTH
from tenancy.forms import PortalForm

EXCLUDE, REINSTATE = "exclude", "reinstate"


class ExclusionForm(PortalForm):
    """Exclude a breach (a category and a reason) or count it again (a reason); the service decides the rest."""

    action = forms.ChoiceField(choices=[(EXCLUDE, "Exclude"), (REINSTATE, "Count again")], widget=forms.HiddenInput)
    category = forms.ChoiceField(
        choices=[("", "Choose a category"), *ExclusionCategory.choices], required=False, label="Category"
    )
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason",
        help_text="The customer reads this in their report.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("action") == EXCLUDE and not cleaned.get("category"):
            self.add_error("category", "Choose why the breach does not count.")
        return cleaned
