"""The form through which a support admin sets someone's password, or switches their password sign-in off, in the
Django admin.

Any new password revokes its owner's API tokens as it is saved (`User.save`). Switching password sign-in off sets no
password, so this form revokes them itself, in the same transaction: an account whose password no longer works must
not keep a way in through a token.
"""

from typing import TYPE_CHECKING

from django.contrib.auth.forms import AdminPasswordChangeForm
from django.db import transaction

from tenancy.models import User
from tenancy.services import api_token_revoke_all

if TYPE_CHECKING:  # Django's password forms are generic only in the type stubs
    _AdminPasswordChangeForm = AdminPasswordChangeForm[User]
else:
    _AdminPasswordChangeForm = AdminPasswordChangeForm


class UserPasswordSetForm(_AdminPasswordChangeForm):
    """A support admin setting another person's password, or switching password sign-in off, in the Django admin."""

    @transaction.atomic
    def save(self, commit: bool = True) -> User:
        user = super().save(commit=commit)
        if not user.has_usable_password():
            api_token_revoke_all(user=user)
        return user
