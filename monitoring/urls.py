from django.urls import path

from monitoring import views

base = "o/<slug:org_slug>/monitoring/"

urlpatterns = [
    path(base, views.source_list_page, name="monitoring-sources"),
    path(f"{base}<uuid:source_id>/", views.source_detail_page, name="monitoring-source"),
    path(f"{base}<uuid:source_id>/rotate/", views.source_rotate_page, name="monitoring-source-rotate"),
    path(f"{base}<uuid:source_id>/state/", views.source_toggle_page, name="monitoring-source-state"),
    path(f"{base}<uuid:source_id>/test/", views.source_test_page, name="monitoring-source-test"),
    path(
        f"{base}<uuid:source_id>/events/<uuid:event_id>/replay/",
        views.event_replay_page,
        name="monitoring-event-replay",
    ),
]
