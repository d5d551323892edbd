from django.urls import path

from tickets.api.queue import QueueCountsApi, QueueListApi, QueueTakeNextApi

app_name = "queue-api"

urlpatterns = [
    path("queue/", QueueListApi.as_view(), name="queue"),
    path("queue/counts/", QueueCountsApi.as_view(), name="queue-counts"),
    path("queue/take-next/", QueueTakeNextApi.as_view(), name="queue-take-next"),
]
