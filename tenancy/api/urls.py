from django.urls import path

from tenancy.api.access_grants import AccessGrantDetailApi, AccessGrantListApi
from tenancy.api.views import MemberDetailApi, MemberListApi, OrganizationListApi

app_name = "tenancy-api"

urlpatterns = [
    path("orgs/", OrganizationListApi.as_view(), name="organization-list"),
    path("orgs/<slug:org_slug>/members/", MemberListApi.as_view(), name="member-list"),
    path("orgs/<slug:org_slug>/members/<uuid:member_id>/", MemberDetailApi.as_view(), name="member-detail"),
]

urlpatterns += [
    path("orgs/<slug:org_slug>/access-grants/", AccessGrantListApi.as_view(), name="access-grant-list"),
    path(
        "orgs/<slug:org_slug>/access-grants/<uuid:grant_id>/",
        AccessGrantDetailApi.as_view(),
        name="access-grant-detail",
    ),
]
