from django.urls import path

from maintenance.api.views import MaintenanceApi

app_name = "maintenance-api"

urlpatterns = [
    path("orgs/<slug:org_slug>/maintenance/", MaintenanceApi.as_view(), name="maintenance"),
]
