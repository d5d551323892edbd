from django.urls import path

from notifications.api.views import NotificationListApi, NotificationReadAllApi, NotificationReadApi

app_name = "notifications-api"

urlpatterns = [
    path("notifications/", NotificationListApi.as_view(), name="notification-list"),
    path("notifications/read-all/", NotificationReadAllApi.as_view(), name="notification-read-all"),
    path("notifications/<uuid:public_id>/read/", NotificationReadApi.as_view(), name="notification-read"),
]
