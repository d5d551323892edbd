"""HTML forms of the staff maintenance pages. They parse input; the services decide what is allowed."""

from datetime import timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet

from maintenance.models import DEFAULT_LEAD_TIME, Severity
from maintenance.selectors import Occurrence
from tenancy.forms import DATETIME_LOCAL_FORMAT, DateTimeLocalInput, PortalForm
from tenancy.models import Organization, Region

MARKDOWN_HELP = "Markdown works: **bold**, lists and links. Say what changes for customers and what they should do."
DATETIME_FORMATS = [DATETIME_LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S"]


def occurrence_label(occurrence: Occurrence) -> str:
    scope = occurrence.region or ", ".join(organization.name for organization in occurrence.organizations)
    cancelled = " (cancelled)" if occurrence.cancelled else ""
    return (
        f"{occurrence.starts_at:%a %Y-%m-%d %H:%M}–{occurrence.ends_at:%H:%M} UTC · {occurrence.title} "
        f"({scope}){cancelled}"
    )


class OneOffWindowForm(PortalForm):
    title = forms.CharField(max_length=200, help_text="What WALT will do, e.g. “Database failover test”.")
    starts_at = forms.DateTimeField(label="Starts", widget=DateTimeLocalInput(), input_formats=DATETIME_FORMATS)
    ends_at = forms.DateTimeField(label="Ends", widget=DateTimeLocalInput(), input_formats=DATETIME_FORMATS)
    region = forms.ChoiceField(
        choices=[("", "No region: only the organizations below"), *Region.choices],
        required=False,
        help_text="A whole region's organizations …",
    )
    organizations = forms.ModelMultipleChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        help_text="… or only these organizations (leave the region empty).",
    )

    def __init__(self, *args: Any, organizations: QuerySet[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organizations"].queryset = organizations  # type: ignore[attr-defined]
        in_zone = f"In {self.zone}."
        self.fields["starts_at"].help_text = in_zone
        self.fields["ends_at"].help_text = f"{in_zone} The window is over at this moment."


class OccurrenceCancelForm(PortalForm):
    occurrence = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For the record; customers read what you write in a notice.",
    )


class NoticeForm(PortalForm):
    title = forms.CharField(max_length=200)
    body = forms.CharField(max_length=20_000, widget=forms.Textarea(attrs={"rows": 8}), help_text=MARKDOWN_HELP)
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.INFO, widget=forms.RadioSelect)
    occurrence = forms.ChoiceField(label="The window it concerns")
    regions = forms.MultipleChoiceField(
        label="Affected regions",
        choices=Region.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave regions and organizations empty to notify the window's own scope.",
    )
    organizations = forms.ModelMultipleChoiceField(
        label="Affected organizations", queryset=Organization.objects.none(), required=False
    )
    lead_hours = forms.IntegerField(
        label="Lead time (hours)",
        min_value=0,
        max_value=30 * 24,
        initial=int(DEFAULT_LEAD_TIME.total_seconds() // 3600),
        help_text="The banner appears and members are e-mailed this many hours before the window starts.",
    )

    def __init__(
        self, *args: Any, occurrences: list[Occurrence], organizations: QuerySet[Organization], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["occurrence"].choices = [  # type: ignore[attr-defined]
            (occurrence.key, occurrence_label(occurrence)) for occurrence in occurrences
        ]
        self.fields["organizations"].queryset = organizations  # type: ignore[attr-defined]

    @property
    def lead_time(self) -> timedelta:
        return timedelta(hours=self.cleaned_data["lead_hours"])
