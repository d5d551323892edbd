from celery import shared_task

SEND_BATCH = 50


@shared_task(name="tenancy.send_due_invitations")
def send_due_invitations() -> None:
    from tenancy.invitations import invitation_send_due

    # A full batch sent means more are waiting (a large team invited at once): keep going now instead of one batch per
    # beat tick. Failures end the chain, so a mail outage cannot spin it.
    if invitation_send_due(limit=SEND_BATCH) >= SEND_BATCH:
        send_due_invitations.delay()


@shared_task(name="tenancy.send_invitation")
def send_invitation_queued_by_the_previous_release(user_id: int, organization_id: int) -> None:
    """What the release before invitations were owed in the database queued after adding a member; while old and new
    processes overlap in a rolling deploy, or such a message still waits in the broker, it is taken here instead of
    being dropped as unknown. Remove it in the release after."""
    from tenancy.invitations import invitation_owe, invitation_send_due

    invitation_owe(user_id=user_id, organization_id=organization_id)
    invitation_send_due()
