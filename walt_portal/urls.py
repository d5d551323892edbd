from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from tenancy.api.views import AuthTokenApi
from walt_portal.health import healthz

admin.site.site_header = "WALT Labs Support — administration"
admin.site.site_title = "WALT Labs Support admin"

urlpatterns = [
    path("", include("tenancy.urls")),
    path("", include("tickets.urls")),
    path("", include("tickets.queue_urls")),
    path("", include("maintenance.urls")),
    path("", include("monitoring.urls")),
    path("", include("reports.urls")),
    path("admin/", admin.site.urls),
    path("notifications/", include("notifications.urls")),
    path("api/v1/auth/token/", AuthTokenApi.as_view(), name="api-auth-token"),
    path("api/v1/", include("tenancy.api.urls")),
    path("api/v1/", include("notifications.api.urls")),
    path("api/v1/", include("tickets.api.urls")),
    path("api/v1/", include("tickets.api.queue_urls")),
    path("api/v1/", include("sla.api.urls")),
    path("api/v1/", include("maintenance.api.urls")),
    path("api/v1/", include("monitoring.api.urls")),
    path("api/v1/", include("reports.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
]
