from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from tenancy.models import Organization, User
from tenancy.services import password_set_link_parts


def invitation_email_send(*, user_id: int, organization_id: int) -> None:
    """E-mail a one-time link to choose a password. Safe to run twice: a user who has already chosen a
    password is not invited again."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    organization = Organization.objects.filter(pk=organization_id).first()
    if user is None or organization is None or user.has_usable_password():
        return
    uid, token = password_set_link_parts(user=user)
    link = settings.PORTAL_BASE_URL.rstrip("/") + reverse("password_reset_confirm", args=[uid, token])
    context = {"user": user, "organization": organization, "link": link}
    send_mail(
        subject=f"You are invited to the WALT Labs Support Portal for {organization.name}",
        message=render_to_string("tenancy/email/invitation.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )
