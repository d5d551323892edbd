from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.decorators.http import require_http_methods

from tenancy import views

# Django's form views treat PUT as POST, and the reset link answers any method; these pages serve GET and POST only.
form_methods = require_http_methods(["GET", "HEAD", "POST"])

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        form_methods(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", form_methods(auth_views.PasswordResetView.as_view()), name="password_reset"),
    path("accounts/password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        form_methods(auth_views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("o/<slug:org_slug>/", views.organization_overview, name="organization-overview"),
    path("staff/organizations/", views.staff_organization_list, name="staff-organizations"),
    path("o/<slug:org_slug>/members/", views.member_list_page, name="member-list"),
    path("o/<slug:org_slug>/members/<uuid:member_id>/remove/", views.member_remove_page, name="member-remove"),
    path("o/<slug:org_slug>/access-grants/", views.access_grant_list_page, name="access-grant-list"),
    path(
        "o/<slug:org_slug>/access-grants/<uuid:grant_id>/revoke/",
        views.access_grant_revoke_page,
        name="access-grant-revoke",
    ),
]
