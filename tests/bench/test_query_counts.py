"""The bench's query counts are the request's own: a token's hourly record of its use is not counted as growth."""

import pytest
from rest_framework.test import APIClient

from bench.scenarios.queries import _call
from tenancy.models import ApiToken
from tenancy.services import api_token_issue


@pytest.mark.django_db
def test_the_first_request_of_a_token_never_used_counts_as_the_next_ones(org_admin, organization):
    token = api_token_issue(user=org_admin)
    path = f"/api/v1/orgs/{organization.slug}/tickets/"
    first, second = (_call(APIClient(), token, "GET", path) for _ in range(2))
    assert first["status"] == second["status"] == 200
    assert first["queries"] == second["queries"]
    assert not any("UPDATE" in sql for sql in first["_full_sql"])
    assert ApiToken.objects.get(user=org_admin).last_used_at is not None  # recorded, outside the count
