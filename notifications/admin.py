from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from notifications.models import Notification, OutboxMessage
from notifications.services import outbox_retry


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Delivery records are written by the outbox only; admins look, and revive dead letters by action."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("idempotency_key", "channel", "recipient", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("status", "channel")
    search_fields = ("recipient__email", "idempotency_key")
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"
    actions = ("retry_dead",)

    @admin.action(description="Retry selected dead messages")
    def retry_dead(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        revived = sum(outbox_retry(message=message) for message in queryset.filter(status=OutboxMessage.Status.DEAD))
        self.message_user(request, f"{revived} dead message(s) queued for delivery again.", messages.SUCCESS)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("subject", "recipient", "created_at", "read_at")
    search_fields = ("recipient__email", "subject")
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"
