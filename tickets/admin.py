from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tickets.models import Attachment, Message, TakeNextSkip, Ticket, TicketEvent, VideoCall


class ReadOnlyInline(admin.TabularInline[Any, Ticket]):
    """Conversation and audit rows are history: the admin shows them; services write them."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("created_at", "author", "internal", "body")
    readonly_fields = fields


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ("created_at", "filename", "content_type", "size", "internal", "uploaded_by")
    readonly_fields = fields


class TicketEventInline(ReadOnlyInline):
    model = TicketEvent
    fields = ("created_at", "kind", "actor", "detail", "access_grant")
    readonly_fields = fields


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin[Ticket]):
    """A read-only view for support admins; tickets are worked in the portal, where the services apply the rules."""

    list_display = ("reference", "organization", "subject", "type", "priority", "status", "assignee", "received_at")
    list_filter = ("status", "priority", "type", "source", "guidance_only")
    search_fields = ("reference", "subject", "organization__name")
    list_select_related = ("organization", "assignee")
    date_hierarchy = "received_at"
    inlines = (MessageInline, AttachmentInline, TicketEventInline)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Ticket | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Ticket | None = None) -> bool:
        return False


@admin.register(VideoCall)
class VideoCallAdmin(admin.ModelAdmin[VideoCall]):
    list_display = ("ticket", "state", "scheduled_at", "decided_by")
    list_filter = ("state",)
    readonly_fields = ("ticket", "requested_by", "note", "state", "scheduled_at", "link", "reason", "decided_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(TakeNextSkip)
class TakeNextSkipAdmin(admin.ModelAdmin[TakeNextSkip]):
    """Every time an engineer passed over the head of the queue, and why: a record, so read-only."""

    list_display = ("created_at", "engineer", "ticket", "reason")
    list_select_related = ("engineer", "ticket")
    search_fields = ("ticket__reference", "engineer__email", "reason")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TakeNextSkip | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: TakeNextSkip | None = None) -> bool:
        return False
