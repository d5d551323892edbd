from django.urls import path

from reports.api.views import BreachExclusionApi, SlaBreachListApi, SlaOverviewApi, SlaReportApi

app_name = "reports-api"

report = "orgs/<slug:org_slug>/reports/sla/"

urlpatterns = [
    path(report, SlaReportApi.as_view(), name="sla-report"),
    path(f"{report}breaches/", SlaBreachListApi.as_view(), name="sla-breach-list"),
    path(
        f"{report}breaches/<uuid:ticket_id>/<slug:clock>/<int:epoch>/exclusion/",
        BreachExclusionApi.as_view(),
        name="breach-exclusion",
    ),
    path("reports/sla/overview/", SlaOverviewApi.as_view(), name="sla-overview"),
]
