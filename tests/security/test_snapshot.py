"""The database fingerprint sees every change a request could make, except the bookkeeping of signing in."""

import pytest
from django.utils import timezone

from tenancy.models import ApiToken
from tenancy.services import api_token_issue
from tests.security.snapshot import changed_tables, database_fingerprint

pytestmark = pytest.mark.django_db


def test_a_tokens_last_use_is_bookkeeping_and_anything_else_is_a_change(member):
    api_token_issue(user=member)
    before = database_fingerprint()

    ApiToken.objects.update(last_used_at=timezone.now())
    assert changed_tables(before, database_fingerprint()) == []

    ApiToken.objects.update(token_hint="zzzz")
    assert changed_tables(before, database_fingerprint()) == ["tenancy_apitoken"]

    api_token_issue(user=member)
    member.full_name = "Someone Else"
    member.save()
    assert changed_tables(before, database_fingerprint()) == ["tenancy_apitoken", "tenancy_user"]
