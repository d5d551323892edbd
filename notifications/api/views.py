from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import paginated_response
from notifications.api.base import UserScopedApi
from notifications.models import Notification
from notifications.selectors import notification_get, notification_list
from notifications.services import notification_mark_all_read, notification_mark_read


class NotificationListApi(UserScopedApi):
    """The caller's in-app notices, unread first, then newest first."""

    class OutputSerializer(serializers.Serializer[Notification]):
        id = serializers.UUIDField(source="public_id")
        subject = serializers.CharField()
        body = serializers.CharField()
        link = serializers.CharField(help_text="A path inside the portal; empty when the notice links nowhere.")
        created_at = serializers.DateTimeField()
        read_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return paginated_response(
            queryset=notification_list(user=self.user),
            serializer_class=self.OutputSerializer,
            request=request,
            view=self,
        )


class NotificationReadApi(UserScopedApi):
    """Mark one of the caller's notices read; reading it again keeps the first time."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, public_id: UUID) -> Response:
        try:
            notification = notification_get(user=self.user, public_id=public_id)
        except Notification.DoesNotExist:
            raise NotFound from None
        notification_mark_read(notification=notification, user=self.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotificationReadAllApi(UserScopedApi):
    """Mark every unread notice of the caller read."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        notification_mark_all_read(user=self.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
