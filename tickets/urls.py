from django.urls import path

from tickets import views

tickets = "o/<slug:org_slug>/tickets/"
ticket = f"{tickets}<uuid:ticket_id>/"

urlpatterns = [
    path(tickets, views.ticket_list_page, name="ticket-list"),
    path(f"{tickets}new/", views.ticket_new, name="ticket-new"),
    path(ticket, views.ticket_detail, name="ticket-detail"),
    path(f"{ticket}reply/", views.ticket_reply, name="ticket-reply"),
    path(f"{ticket}status/", views.ticket_status, name="ticket-status"),
    path(f"{ticket}priority/", views.ticket_priority, name="ticket-priority"),
    path(f"{ticket}type/", views.ticket_type, name="ticket-type"),
    path(f"{ticket}assign/", views.ticket_assign, name="ticket-assign"),
    path(f"{ticket}video-call/", views.ticket_video_call, name="ticket-video-call"),
    path(f"{ticket}video-call/decide/", views.ticket_video_call_decide, name="ticket-video-call-decide"),
    path(f"{ticket}changes/", views.ticket_change_record, name="ticket-change-record"),
    path(f"{ticket}attachments/<uuid:attachment_id>/", views.ticket_attachment, name="ticket-attachment"),
]
