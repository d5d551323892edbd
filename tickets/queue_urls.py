from django.urls import path

from tickets import queue_views

urlpatterns = [
    path("staff/queue/", queue_views.queue_page, name="queue"),
    path("staff/queue/rows/", queue_views.queue_rows, name="queue-rows"),
    path("staff/queue/take-next/", queue_views.queue_take_next, name="queue-take-next"),
]
