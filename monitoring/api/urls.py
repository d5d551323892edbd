from django.urls import path

from monitoring.api.intake import integration_intake
from monitoring.api.sources import SourceDetailApi, SourceListApi, SourceRotateApi

app_name = "monitoring-api"

sources = "orgs/<slug:org_slug>/monitoring/sources/"

urlpatterns = [
    path(sources, SourceListApi.as_view(), name="source-list"),
    path(f"{sources}<uuid:source_id>/", SourceDetailApi.as_view(), name="source-detail"),
    path(f"{sources}<uuid:source_id>/rotate/", SourceRotateApi.as_view(), name="source-rotate"),
    path("integrations/<str:kind>/<str:token>/", integration_intake, name="intake"),
]
