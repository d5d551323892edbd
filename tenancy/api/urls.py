from django.urls import path

from tenancy.api.views import MemberDetailApi, MemberListApi, OrganizationListApi

app_name = "tenancy-api"

urlpatterns = [
    path("orgs/", OrganizationListApi.as_view(), name="organization-list"),
    path("orgs/<slug:org_slug>/members/", MemberListApi.as_view(), name="member-list"),
    path("orgs/<slug:org_slug>/members/<uuid:member_id>/", MemberDetailApi.as_view(), name="member-detail"),
]
