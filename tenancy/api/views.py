import zoneinfo
from uuid import UUID

from django.contrib.auth import authenticate
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, NotFound, Throttled
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import paginated_response
from tenancy.api.base import StaffApi, TenantApi
from tenancy.authentication import ApiTokenAuthentication
from tenancy.models import ApiToken, Membership, Organization, Package, Region, User
from tenancy.selectors import membership_get, membership_list, organization_list_with_package
from tenancy.services import (
    API_TOKENS_PER_USER,
    api_token_issue,
    api_token_revoke,
    member_invite,
    member_remove,
    organization_provision,
)


class AuthTokenApi(APIView):
    """Sign in to the API (POST: e-mail and password for a new token) and sign a token out again (DELETE)."""

    def get_authenticators(self) -> list[BaseAuthentication]:
        # Only signing out has a caller: the token it revokes. Signing in reads only the body, so a revoked token
        # still sent in the header cannot stop its owner from getting a new one; a browser session has no token.
        # (getattr: the schema generator asks once before it has made a request for the view.)
        return [ApiTokenAuthentication()] if getattr(self.request, "method", None) == "DELETE" else []

    def get_permissions(self) -> list[BasePermission]:
        return [IsAuthenticated()] if self.request.method == "DELETE" else [AllowAny()]

    def get_authenticate_header(self, request: Request) -> str:
        return "Token"  # a refused sign-in is a 401 with the challenge, not a 403

    class InputSerializer(serializers.Serializer[dict[str, str]]):
        email = serializers.EmailField()
        password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})

    @extend_schema(
        request=InputSerializer,
        responses={
            200: inline_serializer(
                "AuthToken",
                {"token": serializers.CharField(help_text="Shown this once: the portal keeps only its hash.")},
            )
        },
        examples=[OpenApiExample("Sign in", value={"email": "ada@acme.example", "password": "…"}, request_only=True)],
        description="Exchange an e-mail and password for a new API token, sent as `Authorization: Token <token>`. "
        f"Each sign-in issues another token; a person holds at most {API_TOKENS_PER_USER}, and signing in once more "
        "revokes the oldest.",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request=request,
            username=serializer.validated_data["email"].lower(),
            password=serializer.validated_data["password"],
        )
        # Django's authenticate() swallows the lockout backend's refusal; the flag it leaves says it was the lockout.
        if getattr(request, "axes_locked_out", False):
            raise Throttled(detail="Too many failed sign-ins from here; try again later.")
        if user is None:
            raise AuthenticationFailed("E-mail or password is wrong.")
        assert isinstance(user, User)
        return Response({"token": api_token_issue(user=user)})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        """Revoke the token that authenticates this request; the caller's other tokens keep working."""
        assert isinstance(request.auth, ApiToken)
        api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrganizationOutputSerializer(serializers.Serializer[Organization]):
    name = serializers.CharField()
    slug = serializers.SlugField()
    region = serializers.CharField()
    timezone = serializers.CharField()
    reference_prefix = serializers.CharField()
    package = serializers.CharField(allow_null=True, help_text="The package in force now.")
    created_at = serializers.DateTimeField()


class OrganizationListApi(StaffApi):
    """Staff list and provision customer organizations."""

    class InputSerializer(serializers.Serializer[dict[str, str]]):
        name = serializers.CharField(max_length=200)
        slug = serializers.SlugField(max_length=50)
        region = serializers.ChoiceField(choices=Region.choices)
        timezone = serializers.CharField(max_length=64, default="UTC")
        package = serializers.ChoiceField(choices=Package.choices)
        reference_prefix = serializers.RegexField(
            r"^[A-Z0-9]+(-[A-Z0-9]+)*$",
            max_length=16,
            required=False,
            help_text="Starts the organization's ticket references (ACME in ACME-42); from the slug by default.",
        )

        def validate_timezone(self, value: str) -> str:
            if value not in zoneinfo.available_timezones():
                raise serializers.ValidationError("Use an IANA timezone such as Europe/Berlin.")
            return value

    @extend_schema(responses={200: OrganizationOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return paginated_response(
            queryset=organization_list_with_package(user=self.user, at=timezone.now()),
            serializer_class=OrganizationOutputSerializer,
            request=request,
            view=self,
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: OrganizationOutputSerializer},
        examples=[
            OpenApiExample(
                "Provision a Premium customer",
                value={
                    "name": "Acme",
                    "slug": "acme",
                    "region": "US",
                    "timezone": "America/New_York",
                    "package": "premium",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        organization = organization_provision(
            name=data["name"],
            slug=data["slug"],
            region=data["region"],
            timezone_name=data["timezone"],
            package=data["package"],
            provisioned_by=self.user,
            reference_prefix=data.get("reference_prefix", ""),
        )
        provisioned = organization_list_with_package(user=self.user, at=timezone.now()).get(pk=organization.pk)
        return Response(OrganizationOutputSerializer(provisioned).data, status=status.HTTP_201_CREATED)


class MembershipOutputSerializer(serializers.Serializer[Membership]):
    id = serializers.UUIDField(source="public_id")
    email = serializers.EmailField(source="user.email")
    full_name = serializers.CharField(source="user.full_name")
    role = serializers.CharField()
    invitation_pending = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_invitation_pending(self, membership: Membership) -> bool:
        return not membership.user.has_usable_password()


class MemberListApi(TenantApi):
    """Customer admins (and staff) list and invite the members of their organization."""

    member_roles = (Membership.Role.ADMIN,)

    class InputSerializer(serializers.Serializer[dict[str, str]]):
        email = serializers.EmailField()
        role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.MEMBER)

    @extend_schema(responses={200: MembershipOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return paginated_response(
            queryset=membership_list(organization=self.organization),
            serializer_class=MembershipOutputSerializer,
            request=request,
            view=self,
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: MembershipOutputSerializer},
        examples=[OpenApiExample("Invite", value={"email": "grace@acme.example", "role": "member"}, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = member_invite(organization=self.organization, invited_by=self.user, **serializer.validated_data)
        return Response(MembershipOutputSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(TenantApi):
    member_roles = (Membership.Role.ADMIN,)

    @extend_schema(responses={200: MembershipOutputSerializer})
    def get(self, request: Request, member_id: UUID) -> Response:
        return Response(MembershipOutputSerializer(self._membership(member_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, member_id: UUID) -> Response:
        member_remove(membership=self._membership(member_id), removed_by=self.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _membership(self, member_id: UUID) -> Membership:
        try:
            return membership_get(organization=self.organization, public_id=member_id)
        except Membership.DoesNotExist:
            raise NotFound from None
