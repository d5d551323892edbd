"""Installed in place of `django.contrib.admin`, so that `admin.site` is the portal's site.

Apart from tenancy/apps.py (one AppConfig per module decides which is the app's default) and without models
(app configs are imported before models may be).
"""

from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    default_site = "tenancy.admin_site.PortalAdminSite"
