"""API authentication by token: `Authorization: Token <token>`, looked up by the token's SHA-256."""

from typing import TYPE_CHECKING, Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from tenancy.models import ApiToken, User
from tenancy.selectors import api_token_get
from tenancy.services import api_token_used

if TYPE_CHECKING:  # the schema generator imports DRF's views, which import this module through the settings
    from drf_spectacular.openapi import AutoSchema


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's header parsing and `WWW-Authenticate: Token` challenge, over tokens stored as hashes.

    One query per request, as with DRF's own tokens: the hash's unique index, joined to the user; and, once an hour
    per token, one update of its last use.
    """

    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        try:
            token = api_token_get(token=key)
        except ApiToken.DoesNotExist:
            raise AuthenticationFailed("Invalid token.") from None
        if not token.user.is_active:
            raise AuthenticationFailed("Invalid token.")  # as for a token that never existed: nothing to learn
        api_token_used(token=token, now=timezone.now())
        return token.user, token


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]  # registers itself, untyped
    """Declares the `tokenAuth` security scheme of the OpenAPI schema for ApiTokenAuthentication."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: "AutoSchema") -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`, with a token from POST /api/v1/auth/token/. A token is shown once; "
            "it ends when revoked with DELETE /api/v1/auth/token/, when its owner's password changes, and when "
            "the account is deactivated.",
        }
