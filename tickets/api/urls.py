from django.urls import path

from tickets.api import views

app_name = "tickets-api"

ticket = "orgs/<slug:org_slug>/tickets/<uuid:ticket_id>/"

urlpatterns = [
    path("orgs/<slug:org_slug>/tickets/", views.TicketListApi.as_view(), name="ticket-list"),
    path(ticket, views.TicketDetailApi.as_view(), name="ticket-detail"),
    path(f"{ticket}messages/", views.MessageListApi.as_view(), name="message-list"),
    path(f"{ticket}attachments/", views.AttachmentListApi.as_view(), name="attachment-list"),
    path(
        f"{ticket}attachments/<uuid:attachment_id>/",
        views.AttachmentDownloadApi.as_view(),
        name="attachment-download",
    ),
    path(f"{ticket}video-call/", views.VideoCallApi.as_view(), name="video-call"),
    path(f"{ticket}events/", views.TicketEventListApi.as_view(), name="event-list"),
    path(f"{ticket}changes/", views.ChangeRecordApi.as_view(), name="change-record"),
]
