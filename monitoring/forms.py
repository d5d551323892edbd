import json
from typing import Any

from django import forms

from monitoring.models import DEFAULT_SEVERITY_MAP, Kind, ResolvePolicy
from tenancy.forms import PortalForm


class SourceCreateForm(PortalForm):
    kind = forms.ChoiceField(choices=Kind.choices)
    name = forms.CharField(max_length=200, help_text="E.g. “Production Alertmanager”.")
    resolve_policy = forms.ChoiceField(choices=ResolvePolicy.choices, initial=ResolvePolicy.RESOLVE)


class SourceSettingsForm(PortalForm):
    name = forms.CharField(max_length=200)
    resolve_policy = forms.ChoiceField(choices=ResolvePolicy.choices)
    severity_map = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=f"JSON from the sender's severity to a priority, e.g. {json.dumps(DEFAULT_SEVERITY_MAP)}. "
        "Severities it does not name become P3.",
    )
    hmac_secret = forms.CharField(
        max_length=200,
        required=False,
        help_text="Grafana only: when set, every delivery must be signed with it. Leave empty to keep it as it is.",
    )
    clear_hmac_secret = forms.BooleanField(required=False, label="Remove the HMAC secret")

    def clean_severity_map(self) -> dict[str, Any]:
        try:
            value = json.loads(self.cleaned_data["severity_map"])
        except ValueError:
            raise forms.ValidationError('Enter a JSON object, e.g. {"critical": "P1"}.') from None
        if not isinstance(value, dict):
            raise forms.ValidationError('Enter a JSON object, e.g. {"critical": "P1"}.')
        return value
