from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.output import OutputSerializer
from tenancy.models import User
from tickets.entitlements import GUIDANCE_ONLY_EXPLANATION
from tickets.models import Attachment, Message, Ticket, TicketEvent, VideoCall


class PersonOutputSerializer(OutputSerializer[User]):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField(source="display_name")
    is_walt_staff = serializers.BooleanField()


class TicketOutputSerializer(OutputSerializer[Ticket]):
    id = serializers.UUIDField(source="public_id")
    reference = serializers.CharField()
    organization = serializers.SlugField(source="organization.slug")
    subject = serializers.CharField()
    description = serializers.CharField(help_text="Markdown.")
    type = serializers.CharField()
    priority = serializers.CharField()
    status = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # the API field is named "source"
    guidance_only = serializers.BooleanField()
    guidance_note = serializers.SerializerMethodField()
    requester = PersonOutputSerializer(allow_null=True)
    assignee = PersonOutputSerializer(allow_null=True)
    received_at = serializers.DateTimeField()
    first_responded_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    last_activity_at = serializers.DateTimeField()
    sla = serializers.SerializerMethodField(help_text="Each SLA clock: state, deadline, time left and policy version.")

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                clock: {
                    "type": "object",
                    "nullable": True,  # a ticket without this clock
                    "properties": {
                        "state": {"type": "string", "enum": ["running", "paused", "met", "breached"]},
                        "due_at": {"type": "string", "format": "date-time", "nullable": True},
                        "remaining_seconds": {"type": "integer", "nullable": True},
                        "policy_version": {"type": "integer", "nullable": True},
                    },
                }
                for clock in ("first_response", "resolution")
            },
        }
    )
    def get_sla(self, ticket: Ticket) -> dict[str, dict[str, object] | None]:
        now = timezone.now()
        return {
            "first_response": sla_clock_view(
                ticket.sla_first_response_state,
                ticket.sla_first_response_due_at,
                ticket.sla_first_response_remaining_seconds,
                ticket.sla_policy_version,
                now,
            ),
            "resolution": sla_clock_view(
                ticket.sla_resolution_state,
                ticket.sla_resolution_due_at,
                ticket.sla_resolution_remaining_seconds,
                ticket.sla_policy_version,
                now,
            ),
        }

    def get_guidance_note(self, ticket: Ticket) -> str | None:
        return GUIDANCE_ONLY_EXPLANATION if ticket.guidance_only else None


def sla_clock_view(
    state: str, due_at: datetime | None, paused_remaining: float | None, policy_version: int | None, now: datetime
) -> dict[str, object] | None:
    """One clock as the API shows it; remaining_seconds is negative once a deadline has passed."""
    if not state:
        return None
    if state == "paused":
        remaining = paused_remaining
    elif state == "met" or due_at is None:
        remaining = None
    else:
        remaining = (due_at - now).total_seconds()
    return {
        "state": state,
        "due_at": due_at.isoformat().replace("+00:00", "Z") if due_at else None,
        "remaining_seconds": None if remaining is None else int(remaining),
        "policy_version": policy_version,
    }


def attachment_url(attachment: Attachment) -> str:
    ticket = attachment.ticket
    return reverse(
        "tickets-api:attachment-download",
        kwargs={
            "org_slug": ticket.organization.slug,
            "ticket_id": ticket.public_id,
            "attachment_id": attachment.public_id,
        },
    )


class AttachmentOutputSerializer(OutputSerializer[Attachment]):
    id = serializers.UUIDField(source="public_id")
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    internal = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, attachment: Attachment) -> str:
        return attachment_url(attachment)


class MessageOutputSerializer(OutputSerializer[Message]):
    id = serializers.UUIDField(source="public_id")
    author = PersonOutputSerializer(allow_null=True)
    body = serializers.CharField(help_text="Markdown.")
    internal = serializers.BooleanField()
    by_staff = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    attachments = AttachmentOutputSerializer(many=True)


class VideoCallOutputSerializer(OutputSerializer[VideoCall]):
    status = serializers.CharField(source="state")
    note = serializers.CharField()
    scheduled_at = serializers.DateTimeField(allow_null=True)
    link = serializers.CharField()
    reason = serializers.CharField()
    requested_at = serializers.DateTimeField(source="created_at")
    decided_at = serializers.DateTimeField(allow_null=True)
    disclaimer = serializers.SerializerMethodField()

    def get_disclaimer(self, call: VideoCall) -> str:
        return "Video calls are at WALT Labs' discretion and are not guaranteed; they do not affect the SLA."


class TicketEventOutputSerializer(OutputSerializer[TicketEvent]):
    kind = serializers.CharField()
    actor = PersonOutputSerializer(allow_null=True)
    detail = serializers.JSONField()
    access_grant = serializers.UUIDField(source="access_grant.public_id", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
