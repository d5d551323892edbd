from django.urls import path

from sla.api.views import ContractApi, RebaselineApi

app_name = "sla-api"

urlpatterns = [
    path("orgs/<slug:org_slug>/contract/", ContractApi.as_view(), name="contract"),
    path("orgs/<slug:org_slug>/contract/rebaseline/", RebaselineApi.as_view(), name="rebaseline"),
]
