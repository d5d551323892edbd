"""HTML forms of the ticket pages. They parse input; the services decide what is allowed."""

from datetime import UTC, tzinfo
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet

from core.fields import single_line
from tenancy.forms import DATETIME_LOCAL_FORMAT, DateTimeLocalInput, PortalForm
from tenancy.models import AccessGrant, Organization, Package, Region, User
from tenancy.timezones import format_in_timezone
from tickets.entitlements import GUIDANCE_ONLY_EXPLANATION
from tickets.models import OPEN_STATUSES, Priority, Status, TicketType, VideoCall
from tickets.queue import AssigneeFilter, QueueFilters, Sort, SourceFilter, View

MAX_FILES = 5
FILE_HELP = "Up to 10 MiB each: text, log, Markdown, CSV, JSON, YAML, PDF, PNG, JPEG, GIF, ZIP or gzip."
MARKDOWN_HELP = (
    "Markdown works: **bold**, `code`, fenced ``` blocks, lists and links. Never paste passwords, keys or tokens."
)
PRIORITY_MEANINGS = {
    Priority.P1: "P1 — critical: production is down or data is at risk, and there is no workaround.",
    Priority.P2: "P2 — high: an important function is impaired; a workaround is hard or partial.",
    Priority.P3: "P3 — normal: a limited problem or a question; work goes on.",
    Priority.P4: "P4 — low: information, a cosmetic issue, or a request with no urgency.",
}
TYPE_MEANINGS = {
    TicketType.QUESTION: "Question — ask for guidance on how to do something.",
    TicketType.INCIDENT: "Incident — something is broken or degraded.",
    TicketType.CHANGE_REQUEST: "Change request — ask WALT engineers to change or fix something in your environment.",
    TicketType.ARCHITECTURE_REVIEW: "Architecture review — a review of your architecture by WALT engineers.",
    TicketType.DEPLOYMENT_PLANNING: "Deployment planning — plan a deployment or migration with WALT engineers.",
}
GUIDANCE_ONLY_CHOICE = "Change request — guidance only: WALT advises; it does not change your environment."


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Zero or more files from one <input type=file multiple>."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        uploads = data if isinstance(data, list | tuple) else [data]
        files = [super(MultipleFileField, self).clean(upload, initial) for upload in uploads if upload]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(f"Attach at most {MAX_FILES} files; add more in a reply.", code="too_many")
        return files


class TicketFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *Status.choices], required=False)
    priority = forms.ChoiceField(choices=[("", "Any priority"), *Priority.choices], required=False)
    type = forms.ChoiceField(choices=[("", "Any type"), *TicketType.choices], required=False)
    q = forms.CharField(
        label="Search", max_length=200, required=False, help_text="Words in the subject or description, or ACME-42."
    )


class TicketOpenForm(PortalForm):
    type = forms.ChoiceField(label="What do you need?", widget=forms.RadioSelect)
    priority = forms.ChoiceField(choices=list(PRIORITY_MEANINGS.items()), initial=Priority.P3, widget=forms.RadioSelect)
    subject = forms.CharField(
        max_length=200, validators=[single_line], help_text="In a few words, what is wrong or what you need."
    )
    description = forms.CharField(
        max_length=50_000, required=False, widget=forms.Textarea(attrs={"rows": 10}), help_text=MARKDOWN_HELP
    )
    attachments = MultipleFileField(required=False, help_text=FILE_HELP)

    def __init__(self, *args: Any, ticket_types: tuple[str, ...], guidance_only_changes: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [
            (value, GUIDANCE_ONLY_CHOICE if value == TicketType.CHANGE_REQUEST and guidance_only_changes else label)
            for value, label in TYPE_MEANINGS.items()
            if value in ticket_types
        ]
        type_field = self.fields["type"]
        assert isinstance(type_field, forms.ChoiceField)
        type_field.choices = choices
        if guidance_only_changes:
            type_field.help_text = GUIDANCE_ONLY_EXPLANATION


class ReplyForm(PortalForm):
    body = forms.CharField(
        label="Your reply", max_length=50_000, widget=forms.Textarea(attrs={"rows": 6}), help_text=MARKDOWN_HELP
    )
    file = forms.FileField(label="Attach a file", required=False, help_text=FILE_HELP)
    internal = forms.BooleanField(label="Internal note (WALT staff only; the customer never sees it)", required=False)


class StatusForm(PortalForm):
    status = forms.ChoiceField(choices=Status.choices)


class PriorityForm(PortalForm):
    priority = forms.ChoiceField(choices=Priority.choices)


class TypeForm(PortalForm):
    type = forms.ChoiceField(label="Type", choices=TicketType.choices)


class StaffChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class AssignForm(PortalForm):
    assignee = StaffChoiceField(queryset=None, to_field_name="public_id", required=False, empty_label="Unassigned")

    def __init__(self, *args: Any, staff: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, StaffChoiceField)
        assignee.queryset = staff


class VideoCallRequestForm(PortalForm):
    note = forms.CharField(
        label="What would you like to discuss?",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class VideoCallDecideForm(PortalForm):
    decision = forms.ChoiceField(
        choices=[(VideoCall.State.ACCEPTED, "Accept"), (VideoCall.State.DECLINED, "Decline")],
        widget=forms.HiddenInput,
    )
    scheduled_at = forms.DateTimeField(
        label="When", required=False, widget=DateTimeLocalInput(), input_formats=[DATETIME_LOCAL_FORMAT]
    )
    link = forms.URLField(label="Link to join (https://…)", required=False, assume_scheme="https", max_length=200)
    reason = forms.CharField(
        label="Why not (the customer reads this)",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scheduled_at"].help_text = f"In your timezone, {self.zone}."


class GrantChoiceField(forms.ModelChoiceField[AccessGrant]):
    zone: tzinfo = UTC

    def label_from_instance(self, obj: AccessGrant) -> str:
        return f"{obj.scope[:80]} (until {format_in_timezone(obj.valid_until, self.zone)})"


class ChangeRecordForm(PortalForm):
    access_grant = GrantChoiceField(label="Under the access grant", queryset=None, to_field_name="public_id")
    description = forms.CharField(label="What was changed", max_length=10_000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, grants: QuerySet[AccessGrant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        access_grant = self.fields["access_grant"]
        assert isinstance(access_grant, GrantChoiceField)
        access_grant.queryset = grants
        access_grant.zone = self.zone


class QueueFilterForm(forms.Form):
    """The queue's filters, read from the URL so that a view can be bookmarked and shared."""

    view = forms.ChoiceField(choices=View.choices, required=False)
    organization: forms.ModelChoiceField[Organization] = forms.ModelChoiceField(
        queryset=None,
        to_field_name="slug",
        required=False,
        # A text box, not a list of every organization: rendering the form must not read them all.
        widget=forms.TextInput(attrs={"placeholder": "e.g. acme", "autocomplete": "off"}),
        help_text="Its slug; the organization links in the rows set it.",
        error_messages={"invalid_choice": "No organization has this slug."},
    )
    package = forms.ChoiceField(choices=[("", "Any package"), *Package.choices], required=False)
    region = forms.ChoiceField(choices=[("", "Any region"), *Region.choices], required=False)
    priority = forms.ChoiceField(choices=[("", "Any priority"), *Priority.choices], required=False)
    type = forms.ChoiceField(choices=[("", "Any type"), *TicketType.choices], required=False)
    status = forms.ChoiceField(
        choices=[("", "Any open status"), *[(s.value, s.label) for s in OPEN_STATUSES]], required=False
    )
    assignee = forms.ChoiceField(choices=AssigneeFilter.choices, required=False)
    source = forms.ChoiceField(choices=[("", "Any source"), *SourceFilter.choices], required=False)
    sort = forms.ChoiceField(label="Order", choices=[("", "The view's own order"), *Sort.choices], required=False)

    def __init__(self, *args: Any, organizations: QuerySet[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organization = self.fields["organization"]
        assert isinstance(organization, forms.ModelChoiceField)
        organization.queryset = organizations

    def queue_filters(self) -> QueueFilters:
        data = self.cleaned_data
        return QueueFilters(
            organization=data.get("organization"),
            package=data.get("package") or "",
            region=data.get("region") or "",
            priority=data.get("priority") or "",
            type=data.get("type") or "",
            status=data.get("status") or "",
            assignee=data.get("assignee") or AssigneeFilter.ANYONE,
            source=data.get("source") or "",
            view=data.get("view") or View.ALL,
            sort=data.get("sort") or "",
        )


class TakeNextForm(PortalForm):
    """Take the head of the queue; or pass over `skip` (the head, or the ticket just taken) for a recorded reason."""

    skip = forms.UUIDField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Why skip it (recorded)", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
