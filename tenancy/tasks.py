import smtplib

from celery import shared_task


@shared_task(
    name="tenancy.send_invitation",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def invitation_send(user_id: int, organization_id: int) -> None:
    from tenancy.invitations import invitation_email_send

    invitation_email_send(user_id=user_id, organization_id=organization_id)
