"""Support admins run windows and notices here as well as on the staff pages; both go through the same services."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from core.exceptions import ApplicationError
from maintenance.models import (
    ISO_WEEKDAYS,
    CalendarFeed,
    Notice,
    NoticeDismissal,
    OccurrenceCancellation,
    OneOffWindow,
    RecurringWindow,
)
from maintenance.selectors import recurring_occurrence_key
from maintenance.services import (
    notice_create,
    notice_publish,
    notice_send_update,
    notice_update,
    notice_validate,
    occurrence_cancel,
    occurrence_cancellable,
    one_off_window_create,
    one_off_window_save,
    one_off_window_validate,
    recurring_window_save,
    recurring_window_validate,
)
from tenancy.models import Region, User


def _form_errors(form: forms.ModelForm[Any], error: ApplicationError) -> None:
    """A service's refusal shown beside the field it names, the message on top."""
    form.add_error(None, error.message)
    for item in error.errors:
        field = item.get("field")
        if field in form.fields and field not in form.errors:
            form.add_error(field, str(item.get("detail", "")))


class RecurringWindowForm(forms.ModelForm[RecurringWindow]):
    weekdays = forms.TypedMultipleChoiceField(
        choices=list(ISO_WEEKDAYS.items()),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Days on which an occurrence starts (in UTC); none ticked means every day.",
    )

    class Meta:
        model = RecurringWindow
        fields = ("name", "region", "start_time", "duration", "weekdays", "active_from", "active_until")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            # The rule as it would be saved, checked against the region's other windows.
            fields = {name: cleaned.get(name) for name in self.Meta.fields}
            try:
                recurring_window_validate(window=RecurringWindow(pk=self.instance.pk, **fields))
            except ApplicationError as error:
                _form_errors(self, error)
        return cleaned


@admin.register(RecurringWindow)
class RecurringWindowAdmin(admin.ModelAdmin[RecurringWindow]):
    """A rule changes every future occurrence; end a rule with "active until" rather than deleting it, so notices
    and cancellations keep their window."""

    form = RecurringWindowForm
    list_display = ("name", "region", "schedule_label", "active_from", "active_until")
    list_filter = ("region",)
    readonly_fields = ("public_id",)

    def save_model(self, request: HttpRequest, obj: RecurringWindow, form: Any, change: bool) -> None:
        recurring_window_save(window=obj)

    def has_delete_permission(self, request: HttpRequest, obj: RecurringWindow | None = None) -> bool:
        return False


class OneOffWindowForm(forms.ModelForm[OneOffWindow]):
    class Meta:
        model = OneOffWindow
        fields = ("title", "region", "organizations", "starts_at", "ends_at")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            try:
                one_off_window_validate(
                    starts_at=cleaned["starts_at"],
                    ends_at=cleaned["ends_at"],
                    region=cleaned["region"],
                    organizations=list(cleaned["organizations"]),
                    window=self.instance,
                )
            except ApplicationError as error:
                _form_errors(self, error)
        return cleaned


@admin.register(OneOffWindow)
class OneOffWindowAdmin(admin.ModelAdmin[OneOffWindow]):
    form = OneOffWindowForm
    list_display = ("title", "region", "starts_at", "ends_at", "cancelled_at")
    list_filter = ("region", ("cancelled_at", admin.EmptyFieldListFilter))
    search_fields = ("title",)
    filter_horizontal = ("organizations",)
    readonly_fields = ("public_id", "created_by", "cancelled_at", "cancelled_by", "cancel_reason")
    date_hierarchy = "starts_at"
    actions = ("cancel_windows",)

    def save_model(self, request: HttpRequest, obj: OneOffWindow, form: Any, change: bool) -> None:
        assert isinstance(request.user, User)
        organizations = list(form.cleaned_data["organizations"])
        if change:
            one_off_window_save(window=obj, organizations=organizations)
            return
        created = one_off_window_create(
            title=obj.title,
            starts_at=obj.starts_at,
            ends_at=obj.ends_at,
            region=obj.region,
            organizations=organizations,
            created_by=request.user,
        )
        obj.pk, obj.public_id = created.pk, created.public_id

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The service already set the organizations (with the overlap check under its lock)."""

    def has_delete_permission(self, request: HttpRequest, obj: OneOffWindow | None = None) -> bool:
        return False  # cancel instead: notices keep pointing at the window

    @admin.action(description="Cancel the selected windows")
    def cancel_windows(self, request: HttpRequest, queryset: QuerySet[OneOffWindow]) -> None:
        assert isinstance(request.user, User)
        now = timezone.now()
        for window in queryset:
            try:
                occurrence_cancel(key=str(window.public_id), reason="", cancelled_by=request.user, now=now)
            except ApplicationError as error:
                self.message_user(request, f"{window}: {error.message}", messages.WARNING)


class OccurrenceCancellationForm(forms.ModelForm[OccurrenceCancellation]):
    class Meta:
        model = OccurrenceCancellation
        fields = ("recurring_window", "starts_at", "reason")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            try:
                occurrence_cancellable(
                    key=recurring_occurrence_key(cleaned["recurring_window"], cleaned["starts_at"]), now=timezone.now()
                )
            except ApplicationError as error:
                raise forms.ValidationError(
                    f"{error.message} Give the exact start (UTC) of one of the window's occurrences."
                ) from None
        return cleaned


@admin.register(OccurrenceCancellation)
class OccurrenceCancellationAdmin(admin.ModelAdmin[OccurrenceCancellation]):
    """A cancellation is a record: added here or from the calendar, never edited or removed."""

    form = OccurrenceCancellationForm
    list_display = ("recurring_window", "starts_at", "reason", "cancelled_by", "created_at")
    list_filter = ("recurring_window__region",)
    date_hierarchy = "starts_at"

    def get_readonly_fields(self, request: HttpRequest, obj: OccurrenceCancellation | None = None) -> tuple[str, ...]:
        return ("recurring_window", "starts_at", "reason", "cancelled_by", "created_at") if obj else ()

    def save_model(self, request: HttpRequest, obj: OccurrenceCancellation, form: Any, change: bool) -> None:
        assert isinstance(request.user, User)
        key = recurring_occurrence_key(obj.recurring_window, obj.starts_at)
        occurrence_cancel(key=key, reason=obj.reason, cancelled_by=request.user, now=timezone.now())
        obj.pk = OccurrenceCancellation.objects.get(recurring_window=obj.recurring_window, starts_at=obj.starts_at).pk

    def has_change_permission(self, request: HttpRequest, obj: OccurrenceCancellation | None = None) -> bool:
        return obj is None

    def has_delete_permission(self, request: HttpRequest, obj: OccurrenceCancellation | None = None) -> bool:
        return False


class NoticeForm(forms.ModelForm[Notice]):
    regions = forms.MultipleChoiceField(
        choices=Region.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave regions and organizations empty to notify the window's own scope.",
    )
    occurrence_starts_at = forms.DateTimeField(
        required=False,
        label="Occurrence start",
        help_text="For a recurring window: the start (UTC) of the occurrence it concerns; empty for a one-off window.",
    )

    class Meta:
        model = Notice
        fields = (
            "title",
            "body",
            "severity",
            "recurring_window",
            "occurrence_starts_at",
            "one_off_window",
            "regions",
            "organizations",
            "lead_time",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.recurring_window_id:
            self.initial["occurrence_starts_at"] = self.instance.starts_at

    @property
    def occurrence_key(self) -> str:
        one_off, rule, starts_at = (
            self.cleaned_data.get(name) for name in ("one_off_window", "recurring_window", "occurrence_starts_at")
        )
        if one_off is not None and rule is None:
            return str(one_off.public_id)
        if rule is not None and one_off is None and starts_at is not None:
            return recurring_occurrence_key(rule, starts_at)
        return ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.occurrence_key:
            raise forms.ValidationError(
                "Choose the window it concerns: a one-off window, or a recurring window and its occurrence's start."
            )
        if not self.errors:
            try:
                notice_validate(
                    title=cleaned["title"],
                    body=cleaned["body"],
                    severity=cleaned["severity"],
                    occurrence_key=self.occurrence_key,
                    regions=cleaned["regions"],
                    lead_time=cleaned["lead_time"],
                    current_key=self.instance.occurrence_key if self.instance.pk else "",
                )
            except ApplicationError as error:
                _form_errors(self, error)
        return cleaned


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin[Notice]):
    """Saved as drafts; publish and send updates with the actions, so nobody is e-mailed by a mere edit."""

    form = NoticeForm
    list_display = ("title", "severity", "starts_at", "status", "announced_at", "update_count", "updates_sent")
    list_filter = ("status", "severity")
    search_fields = ("title", "body")
    filter_horizontal = ("organizations",)
    readonly_fields = (
        "public_id",
        "status",
        "published_at",
        "ends_at",
        "announced_at",
        "update_count",
        "updates_sent",
        "created_by",
    )
    date_hierarchy = "starts_at"
    actions = ("publish_notices", "send_updates")

    def save_model(self, request: HttpRequest, obj: Notice, form: Any, change: bool) -> None:
        assert isinstance(request.user, User)
        data = form.cleaned_data
        fields = {
            "title": data["title"],
            "body": data["body"],
            "severity": data["severity"],
            "occurrence_key": form.occurrence_key,
            "regions": data["regions"],
            "organizations": list(data["organizations"]),
            "lead_time": data["lead_time"],
        }
        if change:
            notice_update(notice=obj, **fields)
            return
        created = notice_create(**fields, created_by=request.user, publish=False, now=timezone.now())
        obj.pk, obj.public_id = created.pk, created.public_id

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The service set the audience (the window's own scope when none was chosen)."""

    def has_delete_permission(self, request: HttpRequest, obj: Notice | None = None) -> bool:
        # A draft may go; a published notice was read (and maybe e-mailed): correct it with an update instead.
        return obj is None or obj.status == Notice.Status.DRAFT

    @admin.action(description="Publish the selected notices")
    def publish_notices(self, request: HttpRequest, queryset: QuerySet[Notice]) -> None:
        now = timezone.now()
        for notice in queryset:
            try:
                notice_publish(notice=notice, now=now)
            except ApplicationError as error:
                self.message_user(request, f"{notice}: {error.message}", messages.WARNING)

    @admin.action(description="Send an update of the selected notices to the affected members")
    def send_updates(self, request: HttpRequest, queryset: QuerySet[Notice]) -> None:
        now = timezone.now()
        for notice in queryset:
            try:
                sent = notice_send_update(notice=notice, now=now)
            except ApplicationError as error:
                self.message_user(request, f"{notice}: {error.message}", messages.WARNING)
                continue
            if not sent:
                self.message_user(request, f"{notice}: not announced yet; the announcement will carry the changes.")


@admin.register(NoticeDismissal)
class NoticeDismissalAdmin(admin.ModelAdmin[NoticeDismissal]):
    list_display = ("notice", "user", "dismissed_at")
    readonly_fields = ("notice", "user", "update_count", "dismissed_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: NoticeDismissal | None = None) -> bool:
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin[CalendarFeed]):
    """Which organizations have a feed and when its secret last changed; customers' admins rotate it themselves."""

    list_display = ("organization", "rotated_by", "updated_at")
    fields = ("organization", "rotated_by", "created_at", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CalendarFeed | None = None) -> bool:
        return False
