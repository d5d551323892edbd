from typing import Any

from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from core.api import StandardPagination
from tenancy.models import User


class UserScopedApi(APIView):
    """Base for endpoints that serve only the caller's own rows (their notices), whatever their organizations.

    It sets `user` after authentication; handlers read and write through selectors and services that take
    `user=self.user`, so another person's id answers 404 exactly like a missing one.
    """

    permission_classes = [IsAuthenticated]
    pagination_class = StandardPagination

    user: User

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        assert isinstance(request.user, User)
        self.user = request.user
