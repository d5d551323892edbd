from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from monitoring.models import AlertGroup, Delivery, InboundEvent, MonitoringSource


@admin.register(MonitoringSource)
class MonitoringSourceAdmin(admin.ModelAdmin[MonitoringSource]):
    list_display = ("name", "organization", "kind", "enabled", "resolve_policy", "refused_count")
    list_filter = ("kind", "enabled")
    search_fields = ("name", "organization__name")
    # Tokens are issued and rotated in the portal, where the token is shown once; the hash is no use here.
    exclude = ("token_hash", "hmac_secret")
    readonly_fields = ("token_hint", "token_issued_at", "refused_count")


class IntakeRecordAdmin(admin.ModelAdmin[Any]):
    """Events, deliveries and alert groups are written by the intake alone; an empty one added here would break a
    NOT NULL constraint."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(InboundEvent)
class InboundEventAdmin(IntakeRecordAdmin):
    list_display = ("public_id", "organization", "source", "received_at", "status", "attempts")
    list_filter = ("status",)
    readonly_fields = [field.name for field in InboundEvent._meta.fields]


@admin.register(Delivery)
class DeliveryAdmin(IntakeRecordAdmin):
    list_display = ("received_at", "organization", "source", "result", "status_code", "size")
    list_filter = ("result",)
    readonly_fields = [field.name for field in Delivery._meta.fields]


@admin.register(AlertGroup)
class AlertGroupAdmin(IntakeRecordAdmin):
    list_display = ("title", "organization", "source", "state", "open", "occurrences", "last_seen_at", "ticket")
    list_filter = ("state", "open")
    readonly_fields = [field.name for field in AlertGroup._meta.fields]
