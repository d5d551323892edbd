"""HTML forms of the tenancy pages, and the base every portal form shares."""

from datetime import UTC, tzinfo
from typing import Any

from django import forms
from django.utils import timezone

from core.exceptions import ApplicationError
from tenancy.models import Membership

DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=DATETIME_LOCAL_FORMAT)


class PortalForm(forms.Form):
    """A form whose naive times are read in `zone`, and which shows a service's refusal beside its fields."""

    def __init__(self, *args: Any, zone: tzinfo = UTC, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone

    def full_clean(self) -> None:
        # Django makes a datetime-local value aware in the current timezone: make that the zone the person sees.
        with timezone.override(self.zone):
            super().full_clean()

    def add_application_error(self, error: ApplicationError) -> None:
        """Each field error goes beside its field; the message, and errors about other things, go on top."""
        details = []
        for item in error.errors:
            field, detail = item.get("field"), str(item.get("detail", ""))
            if field in self.fields:
                self.add_error(field, detail)
            else:
                details.append(detail)
        for detail in [error.message, *details]:
            if detail and detail not in self.non_field_errors():
                self.add_error(None, detail)


class MemberInviteForm(PortalForm):
    email = forms.EmailField(label="E-mail", max_length=254)
    role = forms.ChoiceField(
        choices=Membership.Role.choices,
        initial=Membership.Role.MEMBER,
        help_text="Customer admins also manage members and, on Premium, environment access grants.",
    )


class AccessGrantForm(PortalForm):
    scope = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What WALT engineers may change, e.g. “production Kubernetes cluster, namespace shop: restart and "
        "scale deployments”.",
    )
    credentials_reference = forms.CharField(
        label="Where the credentials are shared",
        max_length=300,
        help_text="For example a vault path or an item in your password manager shared with WALT Labs. Never paste "
        "passwords, keys or tokens here.",
    )
    valid_from = forms.DateTimeField(
        widget=DateTimeLocalInput(), input_formats=[DATETIME_LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S"]
    )
    valid_until = forms.DateTimeField(
        widget=DateTimeLocalInput(), input_formats=[DATETIME_LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S"]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        in_zone = f"In the organization's timezone, {self.zone}."
        self.fields["valid_from"].help_text = in_zone
        self.fields["valid_until"].help_text = f"{in_zone} WALT's access ends then, unless you revoke it earlier."
