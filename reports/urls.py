from django.urls import path

from reports import views

report = "o/<slug:org_slug>/reports/sla/"

urlpatterns = [
    path(report, views.sla_report_page, name="report-sla"),
    path(f"{report}report.csv", views.sla_report_csv, name="report-sla-csv"),
    path(f"{report}breaches.csv", views.sla_breaches_csv, name="report-sla-breaches-csv"),
    path(
        f"{report}breaches/<uuid:ticket_id>/<slug:clock>/<int:epoch>/exclusion/",
        views.breach_exclusion_page,
        name="report-breach-exclusion",
    ),
    path("staff/reports/sla/", views.sla_overview_page, name="report-sla-overview"),
]
