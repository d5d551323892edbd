"""Walk every URL pattern that names an organization, as a member of another organization: all 404."""

import uuid

import pytest
from rest_framework.test import APIClient

from tenancy.models import Membership
from tests.factories import MembershipFactory
from tests.security.routes import url_routes

pytestmark = pytest.mark.django_db

METHODS = ["get", "post", "put", "patch", "delete"]
SAMPLE_VALUES = {"uuid": str(uuid.uuid4()), "slug": "sample", "str": "sample", "int": "1", "path": "sample"}


def _org_routes() -> list[str]:
    """Every route template with <org_slug>, from the project's URL tree."""
    return [route.template for route in url_routes() if "<slug:org_slug>" in route.template]


def _fill(route: str, org_slug: str) -> str:
    url = route.replace("<slug:org_slug>", org_slug)
    for kind, value in SAMPLE_VALUES.items():
        while f"<{kind}:" in url:
            start = url.index(f"<{kind}:")
            url = url[:start] + value + url[url.index(">", start) + 1 :]
    return "/" + url.lstrip("^").rstrip("$")


def test_the_walk_finds_the_organization_routes():
    routes = _org_routes()

    assert any(route.startswith("api/v1/orgs/") for route in routes)
    assert any(route.startswith("o/") for route in routes)


@pytest.mark.parametrize("route", _org_routes())
def test_every_organization_route_is_404_for_a_member_of_another_organization(route, organization, other_organization):
    outsider = MembershipFactory.create(organization=organization, role=Membership.Role.ADMIN).user
    url = _fill(route, other_organization.slug)
    client = APIClient()
    client.force_login(outsider)

    answers = {method: getattr(client, method)(url).status_code for method in METHODS}

    assert set(answers.values()) == {404}, answers


@pytest.mark.parametrize("route", _org_routes())
def test_an_unknown_organization_answers_like_a_foreign_one(route, organization):
    member = MembershipFactory.create(organization=organization, role=Membership.Role.ADMIN).user
    client = APIClient()
    client.force_login(member)

    foreign = client.get(_fill(route, "no-such-organization"))

    assert foreign.status_code == 404
