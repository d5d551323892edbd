"""The forms through which a password changes. Each also revokes the person's API tokens, in the same transaction.

A password change is how a person takes their account back: a token issued before it, perhaps to whoever knew
the old password, must not outlive it. Django's browser sessions end through the session hash already; API tokens
carry no such hash, so these forms end them explicitly. The hook is the forms rather than `User.set_password`,
because Django also calls `set_password` to re-hash a correct password at sign-in (a stronger hasher), and that
must not revoke anything.
"""

from typing import TYPE_CHECKING

from django.contrib.admin.forms import AdminPasswordChangeForm as OwnPasswordChangeForm
from django.contrib.auth.forms import AdminPasswordChangeForm, SetPasswordForm
from django.db import transaction

from tenancy.models import User
from tenancy.services import api_token_revoke_all

if TYPE_CHECKING:  # Django's password forms are generic only in the type stubs
    _SetPasswordForm = SetPasswordForm[User]
    _AdminPasswordChangeForm = AdminPasswordChangeForm[User]
else:
    _SetPasswordForm, _AdminPasswordChangeForm = SetPasswordForm, AdminPasswordChangeForm


class PasswordResetSetForm(_SetPasswordForm):
    """Choosing a password from a reset link, or from an invitation (which uses the same link)."""

    @transaction.atomic
    def save(self, commit: bool = True) -> User:
        user = super().save(commit=commit)
        api_token_revoke_all(user=user)
        return user


class StaffOwnPasswordChangeForm(OwnPasswordChangeForm):
    """A person changing their own password in the Django admin (old password, then the new one twice)."""

    @transaction.atomic
    def save(self, commit: bool = True) -> User:
        user = super().save(commit=commit)
        assert isinstance(user, User)
        api_token_revoke_all(user=user)
        return user


class UserPasswordSetForm(_AdminPasswordChangeForm):
    """A support admin setting another person's password, or switching password sign-in off, in the Django admin."""

    @transaction.atomic
    def save(self, commit: bool = True) -> User:
        user = super().save(commit=commit)
        api_token_revoke_all(user=user)
        return user
