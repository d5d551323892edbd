import pytest

from tenancy.models import Contract, Membership, Organization, User
from tests.factories import TEST_PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db


def test_a_token_is_issued_for_a_right_password(api_client, member):
    response = api_client().post(
        "/api/v1/auth/token/", {"email": member.email, "password": TEST_PASSWORD}, format="json"
    )

    assert response.status_code == 200
    assert api_client().get("/api/v1/orgs/acme/members/", HTTP_AUTHORIZATION=f"Token {response.json()['token']}")


def test_a_wrong_password_gets_401_and_no_token(api_client, member):
    response = api_client().post("/api/v1/auth/token/", {"email": member.email, "password": "wrong"}, format="json")

    assert response.status_code == 401
    assert "token" not in response.json()


def test_token_requests_list_every_field_error(api_client, db):
    response = api_client().post("/api/v1/auth/token/", {"email": "not-an-email"}, format="json")

    assert response.status_code == 400
    assert {error["field"] for error in response.json()["errors"]} == {"email", "password"}


def test_unauthenticated_api_calls_get_401_with_the_token_challenge(api_client, organization):
    response = api_client().get("/api/v1/orgs/acme/members/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert set(response.json()) == {"message", "errors"}


def test_a_malformed_json_body_is_a_400_not_a_500(api_client, engineer):
    response = api_client(engineer).post("/api/v1/orgs/", data="{not json", content_type="application/json")

    assert response.status_code == 400


def test_staff_provision_an_organization_with_its_first_contract(api_client, support_admin):
    payload = {"name": "Initech", "slug": "initech", "region": "EU", "timezone": "Europe/Paris", "package": "premium"}

    response = api_client(support_admin).post("/api/v1/orgs/", payload, format="json")

    assert response.status_code == 201
    assert response.json() | {"created_at": None} == payload | {"created_at": None, "reference_prefix": "INITECH"}
    organization = Organization.objects.get(slug="initech")
    assert Contract.objects.for_organization(organization).get().package == "premium"


def test_provisioning_lists_every_field_error(api_client, engineer):
    payload = {"name": "", "slug": "not a slug", "region": "ASIA", "timezone": "Mars/Olympus", "package": "gold"}

    response = api_client(engineer).post("/api/v1/orgs/", payload, format="json")

    assert response.status_code == 400
    assert {error["field"] for error in response.json()["errors"]} == set(payload)
    assert not Organization.objects.filter(name="").exists()


def test_a_taken_slug_is_refused(api_client, engineer, organization):
    payload = {"name": "Acme again", "slug": "acme", "region": "US", "timezone": "UTC", "package": "standard"}

    response = api_client(engineer).post("/api/v1/orgs/", payload, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "slug"


def test_customers_cannot_list_or_provision_organizations(api_client, org_admin):
    client = api_client(org_admin)

    assert client.get("/api/v1/orgs/").status_code == 403
    assert client.post("/api/v1/orgs/", {}, format="json").status_code == 403


def test_staff_list_organizations_with_their_package(api_client, engineer, organization, other_organization):
    response = api_client(engineer).get("/api/v1/orgs/")

    assert response.status_code == 200
    assert [(row["slug"], row["package"]) for row in response.json()["results"]] == [
        ("acme", "premium"),
        ("globex", "standard"),
    ]


def test_an_org_admin_invites_a_member_who_exists_at_once(
    api_client, org_admin, organization, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_client(org_admin).post(
            "/api/v1/orgs/acme/members/", {"email": "New.Person@Acme.example", "role": "member"}, format="json"
        )

    assert response.status_code == 201
    assert response.json()["email"] == "new.person@acme.example"
    assert response.json()["invitation_pending"] is True
    user = User.objects.get(email="new.person@acme.example")
    assert not user.has_usable_password()
    assert len(callbacks) == 1  # the invitation is sent after commit


def test_a_plain_member_cannot_manage_members(api_client, member, organization):
    client = api_client(member)

    assert client.get("/api/v1/orgs/acme/members/").status_code == 403
    assert client.post("/api/v1/orgs/acme/members/", {"email": "x@y.example"}, format="json").status_code == 403


def test_staff_cannot_be_invited_as_members(api_client, org_admin, engineer, organization):
    response = api_client(org_admin).post("/api/v1/orgs/acme/members/", {"email": engineer.email}, format="json")

    assert response.status_code == 400
    assert not Membership.objects.filter(user=engineer).exists()


def test_an_org_admin_removes_a_member(api_client, org_admin, member, organization):
    membership = Membership.objects.get(user=member)

    response = api_client(org_admin).delete(f"/api/v1/orgs/acme/members/{membership.public_id}/")

    assert response.status_code == 204
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_the_last_admin_cannot_be_removed(api_client, org_admin, organization):
    membership = Membership.objects.get(user=org_admin)

    response = api_client(org_admin).delete(f"/api/v1/orgs/acme/members/{membership.public_id}/")

    assert response.status_code == 400
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_a_member_of_another_organization_is_404_by_id(api_client, org_admin, organization, other_organization):
    foreign = MembershipFactory.create(organization=other_organization)

    response = api_client(org_admin).delete(f"/api/v1/orgs/acme/members/{foreign.public_id}/")

    assert response.status_code == 404
    assert Membership.objects.filter(pk=foreign.pk).exists()


def test_a_foreign_organization_answers_exactly_like_a_missing_one(api_client, org_admin, other_organization):
    client = api_client(org_admin)

    foreign = client.get("/api/v1/orgs/globex/members/")
    missing = client.get("/api/v1/orgs/nowhere/members/")

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


def test_staff_pass_for_every_organization(api_client, engineer, organization, other_organization):
    assert api_client(engineer).get("/api/v1/orgs/globex/members/").status_code == 200
