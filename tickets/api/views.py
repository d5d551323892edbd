from uuid import UUID

from django.http import FileResponse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import paginated_response
from core.exceptions import ApplicationError
from core.fields import SingleLineField
from tenancy.api.base import TenantApi
from tenancy.models import AccessGrant, User
from tenancy.selectors import access_grant_get, staff_get
from tickets.api.serializers import (
    AttachmentOutputSerializer,
    MessageOutputSerializer,
    TicketEventOutputSerializer,
    TicketOutputSerializer,
    VideoCallOutputSerializer,
)
from tickets.attachments import ALLOWED_KINDS
from tickets.models import Attachment, Priority, Source, Status, Ticket, TicketEvent, TicketType, VideoCall
from tickets.selectors import (
    attachment_get,
    attachment_list,
    message_list,
    ticket_event_list,
    ticket_get,
    ticket_list,
    video_call_for,
)
from tickets.services import (
    attachment_add,
    ticket_assign,
    ticket_change_record,
    ticket_edit,
    ticket_open,
    ticket_priority_change,
    ticket_reply,
    ticket_status_change,
    ticket_type_change,
    video_call_decide,
    video_call_request,
)

STAFF_ONLY_FIELDS = ("priority", "type", "assignee")
DOWNLOAD_CONTENT_TYPES = sorted({kind.content_type for kind in ALLOWED_KINDS.values()})


class TicketApi(TenantApi):
    """Base for endpoints under …/tickets/<ticket_id>/: the ticket is looked up inside the organization only."""

    def ticket(self, ticket_id: UUID) -> Ticket:
        try:
            return ticket_get(organization=self.organization, public_id=ticket_id)
        except Ticket.DoesNotExist:
            raise NotFound from None  # unknown and foreign ids answer alike


class TicketListApi(TenantApi):
    class FilterSerializer(serializers.Serializer[dict[str, str]]):
        status = serializers.ChoiceField(choices=Status.choices, required=False)
        priority = serializers.ChoiceField(choices=Priority.choices, required=False)
        type = serializers.ChoiceField(choices=TicketType.choices, required=False)
        source = serializers.ChoiceField(choices=Source.choices, required=False)  # type: ignore[assignment]
        q = serializers.CharField(
            required=False,
            max_length=200,
            help_text="Text in the subject or description, or a reference such as ACME-42.",
        )

    class InputSerializer(serializers.Serializer[dict[str, str]]):
        subject = SingleLineField(max_length=200)
        description = serializers.CharField(allow_blank=True, default="", max_length=50_000)
        type = serializers.ChoiceField(choices=TicketType.choices)
        priority = serializers.ChoiceField(choices=Priority.choices)

    @extend_schema(
        parameters=[FilterSerializer, OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: TicketOutputSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        tickets = ticket_list(
            organization=self.organization,
            status=data.get("status"),
            priority=data.get("priority"),
            ticket_type=data.get("type"),
            source=data.get("source"),
            text=data.get("q"),
        )
        return paginated_response(
            queryset=tickets.select_related("organization"),
            serializer_class=TicketOutputSerializer,
            request=request,
            view=self,
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: TicketOutputSerializer},
        examples=[
            OpenApiExample(
                "An incident",
                value={
                    "subject": "Checkout returns 502",
                    "description": "Since 09:40 UTC every **checkout** request fails.",
                    "type": "incident",
                    "priority": "P1",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ticket = ticket_open(
            organization=self.organization,
            requester=None if self.user.is_walt_staff else self.user,
            subject=data["subject"],
            description=data["description"],
            ticket_type=data["type"],
            priority=data["priority"],
            source=Source.API,
        )
        return Response(TicketOutputSerializer(ticket).data, status=status.HTTP_201_CREATED)


class TicketDetailApi(TicketApi):
    class UpdateSerializer(serializers.Serializer[dict[str, str]]):
        subject = SingleLineField(max_length=200, required=False)
        description = serializers.CharField(allow_blank=True, max_length=50_000, required=False)
        status = serializers.ChoiceField(
            choices=Status.choices,
            required=False,
            help_text="Customers may reopen a resolved ticket or close theirs; staff move it freely (closed is final).",
        )
        priority = serializers.ChoiceField(choices=Priority.choices, required=False, help_text="Staff only.")
        type = serializers.ChoiceField(choices=TicketType.choices, required=False, help_text="Staff only.")
        assignee = serializers.UUIDField(
            required=False, allow_null=True, help_text="Staff only: a WALT engineer's id, or null."
        )

    @extend_schema(responses={200: TicketOutputSerializer})
    def get(self, request: Request, ticket_id: UUID) -> Response:
        return Response(TicketOutputSerializer(self.ticket(ticket_id)).data)

    @extend_schema(request=UpdateSerializer, responses={200: TicketOutputSerializer})
    def patch(self, request: Request, ticket_id: UUID) -> Response:
        ticket = self.ticket(ticket_id)
        serializer = self.UpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not self.user.is_walt_staff:
            refused = [field for field in STAFF_ONLY_FIELDS if field in data]
            if refused:
                raise ApplicationError(
                    "Only WALT staff change these fields.",
                    errors=[
                        {"field": field, "code": "staff_only", "detail": "Set by WALT staff."} for field in refused
                    ],
                    status_code=403,
                )
        if "subject" in data or "description" in data:
            ticket = ticket_edit(
                ticket=ticket, actor=self.user, subject=data.get("subject"), description=data.get("description")
            )
        if "type" in data:
            ticket = ticket_type_change(ticket=ticket, actor=self.user, ticket_type=data["type"])
        if "priority" in data:
            ticket = ticket_priority_change(ticket=ticket, actor=self.user, priority=data["priority"])
        if "assignee" in data:
            ticket = ticket_assign(ticket=ticket, actor=self.user, assignee=self._staff(data["assignee"]))
        if "status" in data:
            ticket = ticket_status_change(ticket=ticket, actor=self.user, status=data["status"])
        return Response(TicketOutputSerializer(self.ticket(ticket_id)).data)

    def _staff(self, public_id: UUID | None) -> User | None:
        if public_id is None:
            return None
        try:
            return staff_get(public_id=public_id)
        except User.DoesNotExist:
            raise ApplicationError(
                "No such engineer.",
                errors=[{"field": "assignee", "code": "does_not_exist", "detail": "Not a WALT engineer's id."}],
            ) from None


class MessageListApi(TicketApi):
    class InputSerializer(serializers.Serializer[dict[str, str]]):
        body = serializers.CharField(max_length=50_000, help_text="Markdown.")
        internal = serializers.BooleanField(default=False, help_text="Staff only: a note customers never see.")

    @extend_schema(responses={200: MessageOutputSerializer(many=True)})
    def get(self, request: Request, ticket_id: UUID) -> Response:
        messages = message_list(ticket=self.ticket(ticket_id), include_internal=self.user.is_walt_staff)
        return paginated_response(
            queryset=messages, serializer_class=MessageOutputSerializer, request=request, view=self
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: MessageOutputSerializer},
        examples=[OpenApiExample("Reply", value={"body": "We restarted the pool; please retry."}, request_only=True)],
    )
    def post(self, request: Request, ticket_id: UUID) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = ticket_reply(ticket=self.ticket(ticket_id), author=self.user, **serializer.validated_data)
        return Response(MessageOutputSerializer(message).data, status=status.HTTP_201_CREATED)


class AttachmentListApi(TicketApi):
    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer[dict[str, object]]):
        file = serializers.FileField(help_text="Text, log, CSV, JSON, YAML, PDF, PNG, JPEG, GIF, ZIP or gzip.")
        internal = serializers.BooleanField(default=False, help_text="Staff only.")

    @extend_schema(responses={200: AttachmentOutputSerializer(many=True)})
    def get(self, request: Request, ticket_id: UUID) -> Response:
        attachments = attachment_list(ticket=self.ticket(ticket_id), include_internal=self.user.is_walt_staff)
        return paginated_response(
            queryset=attachments, serializer_class=AttachmentOutputSerializer, request=request, view=self
        )

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={201: AttachmentOutputSerializer})
    def post(self, request: Request, ticket_id: UUID) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attachment = attachment_add(
            ticket=self.ticket(ticket_id),
            uploaded_by=self.user,
            upload=serializer.validated_data["file"],
            internal=bool(serializer.validated_data["internal"]),
        )
        return Response(AttachmentOutputSerializer(attachment).data, status=status.HTTP_201_CREATED)


class AttachmentDownloadApi(TicketApi):
    # Served with the type its kind was recognized as, always as a download.
    @extend_schema(responses={(200, content_type): bytes for content_type in DOWNLOAD_CONTENT_TYPES})
    def get(self, request: Request, ticket_id: UUID, attachment_id: UUID) -> FileResponse:
        try:
            attachment = attachment_get(
                ticket=self.ticket(ticket_id), public_id=attachment_id, include_internal=self.user.is_walt_staff
            )
        except Attachment.DoesNotExist:
            raise NotFound from None
        return attachment_response(attachment)


def attachment_response(attachment: Attachment) -> FileResponse:
    """Always a download, never rendered: attachment disposition, nosniff and a sandboxing CSP."""
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


class VideoCallApi(TicketApi):
    class RequestSerializer(serializers.Serializer[dict[str, str]]):
        note = serializers.CharField(allow_blank=True, default="", max_length=2000)

    class DecisionSerializer(serializers.Serializer[dict[str, object]]):
        status = serializers.ChoiceField(choices=[VideoCall.State.ACCEPTED, VideoCall.State.DECLINED])
        scheduled_at = serializers.DateTimeField(required=False, allow_null=True)
        link = serializers.URLField(required=False, allow_blank=True, default="")
        reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    @extend_schema(responses={200: VideoCallOutputSerializer})
    def get(self, request: Request, ticket_id: UUID) -> Response:
        ticket = self.ticket(ticket_id)
        call = video_call_for(ticket=ticket)
        if call is None:
            raise NotFound("No video call was requested on this ticket.")
        return Response(VideoCallOutputSerializer(call).data)

    @extend_schema(request=RequestSerializer, responses={201: VideoCallOutputSerializer})
    def post(self, request: Request, ticket_id: UUID) -> Response:
        serializer = self.RequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        call = video_call_request(ticket=self.ticket(ticket_id), requested_by=self.user, **serializer.validated_data)
        return Response(VideoCallOutputSerializer(call).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DecisionSerializer, responses={200: VideoCallOutputSerializer})
    def patch(self, request: Request, ticket_id: UUID) -> Response:
        serializer = self.DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        call = video_call_decide(
            ticket=self.ticket(ticket_id),
            decided_by=self.user,
            accept=data["status"] == VideoCall.State.ACCEPTED,
            scheduled_at=data.get("scheduled_at"),
            link=str(data["link"]),
            reason=str(data["reason"]),
        )
        return Response(VideoCallOutputSerializer(call).data)


class TicketEventListApi(TicketApi):
    """The ticket's audit trail, including every change WALT performed and the grant it was made under."""

    @extend_schema(responses={200: TicketEventOutputSerializer(many=True)})
    def get(self, request: Request, ticket_id: UUID) -> Response:
        events = ticket_event_list(ticket=self.ticket(ticket_id))
        return paginated_response(
            queryset=events, serializer_class=TicketEventOutputSerializer, request=request, view=self
        )


class ChangeRecordApi(TicketApi):
    class InputSerializer(serializers.Serializer[dict[str, object]]):
        access_grant = serializers.UUIDField(help_text="The grant in force under which the change was made.")
        description = serializers.CharField(max_length=10_000)

    @extend_schema(request=InputSerializer, responses={201: TicketEventOutputSerializer})
    def post(self, request: Request, ticket_id: UUID) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = self.ticket(ticket_id)
        try:
            grant = access_grant_get(
                organization=self.organization, public_id=serializer.validated_data["access_grant"]
            )
        except AccessGrant.DoesNotExist:
            raise ApplicationError(
                "No such access grant.",
                errors=[
                    {"field": "access_grant", "code": "does_not_exist", "detail": "Not a grant of this organization."}
                ],
            ) from None
        event: TicketEvent = ticket_change_record(
            ticket=ticket,
            actor=self.user,
            access_grant=grant,
            description=str(serializer.validated_data["description"]),
        )
        return Response(TicketEventOutputSerializer(event).data, status=status.HTTP_201_CREATED)
