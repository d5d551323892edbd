"""Invitation e-mails, owed in PostgreSQL and sent at least once.

`member_invite` records on the new membership that an invitation is due, in the transaction that adds the member, and
queues a wake-up after commit. Beat runs `tenancy.send_due_invitations` as well, so an invitation whose wake-up was
lost (the broker down or emptied, a worker that crashed holding it) is sent one beat interval late, never missing.

Each invitation is claimed with a lease before it is sent, so two workers never send it at the same time, and marked
sent only once the mail backend accepted it: a worker that dies between the two leaves it to be sent again when the
lease ends (at least once; every copy carries the same Message-ID). The password-set link is made at send time from
the user's current state and is never stored.
"""

import logging
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tenancy.models import Membership
from tenancy.services import password_set_link_parts

logger = logging.getLogger(__name__)

# Longer than any task may run (Celery kills a task after 300 s), so an invitation is never handed to a second worker
# while the first could still be sending it.
CLAIM_LEASE = timedelta(minutes=10)
BACKOFF_FIRST_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
# With the back-off above, about a day of failures (the first hour, then hourly): a mail server down overnight loses
# no invitation, and an address it keeps refusing stops being tried.
MAX_ATTEMPTS = 30


def invitation_owe(*, user_id: int, organization_id: int) -> None:
    """Record that the membership of the user in the organization is owed its invitation, unless it was ever tried
    or is owed already. For memberships the release before added without recording the debt."""
    Membership.objects.filter(
        user_id=user_id,
        organization_id=organization_id,
        invitation_due_at__isnull=True,
        invitation_sent_at__isnull=True,
        invitation_attempts=0,
    ).update(invitation_due_at=timezone.now())


@transaction.atomic
def invitation_claim(*, now: datetime) -> tuple[int, datetime] | None:
    """Lease the longest-waiting due invitation to the caller: its membership id and the lease's end, which fences
    the caller's later writes. Invitations another claimer has locked are skipped, not waited for."""
    membership_id = (
        Membership.objects.select_for_update(skip_locked=True)
        .filter(invitation_due_at__lte=now)
        .order_by("invitation_due_at")
        .values_list("pk", flat=True)
        .first()
    )
    if membership_id is None:
        return None
    leased_until = now + CLAIM_LEASE
    Membership.objects.filter(pk=membership_id).update(
        invitation_due_at=leased_until, invitation_attempts=F("invitation_attempts") + 1
    )
    return membership_id, leased_until


def invitation_send(*, membership_id: int, leased_until: datetime, now: datetime) -> bool:
    """Send one claimed invitation; True when this call sent it and marked it sent.

    Runs outside any transaction, so no row stays locked while a mail server is slow. Every write is conditional on
    the lease this caller holds: a caller whose lease ended and was taken over changes nothing.
    """
    membership = Membership.objects.select_related("user", "organization").filter(pk=membership_id).first()
    if membership is None or membership.invitation_due_at != leased_until:
        return False  # removed meanwhile, or a stale lease holder
    mine = Membership.objects.filter(pk=membership_id, invitation_due_at=leased_until)
    user = membership.user
    if not user.is_active or user.has_usable_password():
        # Deactivated, or the person chose a password already (through another organization's invitation or a
        # reset): an invitation to choose one would only confuse.
        mine.update(invitation_due_at=None)
        return False
    try:
        _email_send(membership=membership)
    except Exception as error:  # whatever went wrong, this invitation waits for its retry and the others go on
        logger.exception(
            "Sending the invitation of membership %s (attempt %s) failed",
            membership.public_id,
            membership.invitation_attempts,
        )
        _failure_record(membership=membership, leased_until=leased_until, now=now)
        if isinstance(error, SoftTimeLimitExceeded):
            raise  # the task is out of time: stop taking invitations rather than be killed holding one
        return False
    return mine.update(invitation_due_at=None, invitation_sent_at=now) == 1


def invitation_send_due(*, now: datetime | None = None, limit: int = 50) -> int:
    """Send up to `limit` due invitations, claimed one at a time so each lease starts just before its own send;
    returns how many were sent."""
    sent = 0
    for _ in range(limit):
        moment = now or timezone.now()
        claimed = invitation_claim(now=moment)
        if claimed is None:
            break
        membership_id, leased_until = claimed
        sent += invitation_send(membership_id=membership_id, leased_until=leased_until, now=moment)
    return sent


def _email_send(*, membership: Membership) -> None:
    uid, token = password_set_link_parts(user=membership.user)
    link = settings.PORTAL_BASE_URL.rstrip("/") + reverse("password_reset_confirm", args=[uid, token])
    context = {"user": membership.user, "organization": membership.organization, "link": link}
    # A resend after a crash carries the same Message-ID, so mail clients that deduplicate show it once.
    domain = urlsplit(settings.PORTAL_BASE_URL).hostname or "walt-portal"
    EmailMessage(
        subject=f"You are invited to the WALT Labs Support Portal for {membership.organization.name}",
        body=render_to_string("tenancy/email/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[membership.user.email],
        headers={"Message-ID": f"<invitation-{membership.public_id}@{domain}>"},
    ).send()


def _failure_record(*, membership: Membership, leased_until: datetime, now: datetime) -> None:
    mine = Membership.objects.filter(pk=membership.pk, invitation_due_at=leased_until)
    if membership.invitation_attempts >= MAX_ATTEMPTS:
        mine.update(invitation_due_at=None)
        logger.error("Gave up the invitation of membership %s after %s attempts", membership.public_id, MAX_ATTEMPTS)
        return
    mine.update(invitation_due_at=now + _backoff(attempts=membership.invitation_attempts))


def _backoff(*, attempts: int) -> timedelta:
    delay = timedelta(seconds=min(BACKOFF_FIRST_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS))
    # Up to 10 % more, so invitations that failed together do not all come back in the same second.
    return delay + delay * (secrets.randbelow(101) / 1000)
