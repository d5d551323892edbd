"""Invitation e-mails are owed in PostgreSQL with the membership and sent by a sweep, at least once: a broker that is
down delays them and never fails the request that invites."""

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connections
from django.test import Client
from django.urls import reverse

import tenancy.services
from core.exceptions import ApplicationError
from tenancy.invitations import CLAIM_LEASE, MAX_ATTEMPTS, invitation_claim, invitation_send, invitation_send_due
from tenancy.models import Membership, Organization, User
from tenancy.services import member_invite, member_remove
from tenancy.tasks import send_due_invitations, send_invitation_queued_by_the_previous_release
from tests.factories import MembershipFactory
from tests.processes.stack import WakeUpPublisher, free_port
from walt_portal.celery import app

NOON = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def invite(organization: Organization, invited_by: User, email: str = "grace@acme.example") -> Membership:
    return member_invite(organization=organization, email=email, role="member", invited_by=invited_by)


def owed(membership: Membership) -> tuple[datetime | None, datetime | None, int]:
    membership.refresh_from_db()
    return membership.invitation_due_at, membership.invitation_sent_at, membership.invitation_attempts


def mail_server_down(settings) -> None:
    """Django's real SMTP backend, aimed at a port nobody listens on."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()


# ------------------------------------------------------------------------------------------------ owed with the member


@pytest.mark.django_db
@time_machine.travel(NOON, tick=False)
def test_a_new_person_is_owed_an_invitation_with_the_membership(org_admin, organization):
    membership = invite(organization, org_admin)

    assert owed(membership) == (NOON, None, 0)
    assert mail.outbox == []  # nothing is sent inside the request


@pytest.mark.django_db
def test_a_customer_who_has_a_password_is_owed_no_invitation(
    org_admin, organization, other_member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        membership = invite(organization, org_admin, email=other_member.email)

    assert owed(membership) == (None, None, 0)
    assert callbacks == []


# ------------------------------------------------------------------------------------------------ the sweep


@pytest.mark.django_db
@time_machine.travel(NOON, tick=False)
def test_the_sweep_sends_an_owed_invitation_once(org_admin, organization):
    membership = invite(organization, org_admin)

    first = invitation_send_due()
    second = invitation_send_due()

    assert (first, second) == (1, 0)
    assert owed(membership) == (None, NOON, 1)
    [message] = mail.outbox
    assert message.to == ["grace@acme.example"]
    assert message.subject == "You are invited to the WALT Labs Support Portal for Acme Corp"
    assert message.extra_headers["Message-ID"].startswith(f"<invitation-{membership.public_id}@")


@pytest.mark.django_db
def test_the_beat_task_sends_what_is_owed(org_admin, organization):
    invite(organization, org_admin)

    send_due_invitations()
    send_due_invitations()

    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_invitation_for_a_removed_membership_is_not_sent(org_admin, organization):
    membership = invite(organization, org_admin)
    member_remove(membership=membership, removed_by=org_admin)

    assert invitation_send_due() == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_invitation_accepted_before_it_went_out_is_not_sent(org_admin, organization):
    membership = invite(organization, org_admin)
    membership.user.set_password("a-long-new-passphrase")
    membership.user.save()

    assert invitation_send_due() == 0
    assert mail.outbox == []
    assert owed(membership) == (None, None, 1)  # settled: not owed any more, never sent


@pytest.mark.django_db
def test_no_invitation_goes_to_a_deactivated_person(org_admin, organization):
    membership = invite(organization, org_admin)
    User.objects.filter(pk=membership.user_id).update(is_active=False)

    assert invitation_send_due() == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_person_invited_by_two_organizations_is_told_of_each(
    org_admin, organization, other_member, other_organization
):
    invite(organization, org_admin)
    invite(other_organization, other_member)

    assert invitation_send_due() == 2
    assert sorted(message.subject.rsplit(" for ", 1)[1] for message in mail.outbox) == ["Acme Corp", "Globex GmbH"]
    assert {message.to[0] for message in mail.outbox} == {"grace@acme.example"}


@pytest.mark.django_db
def test_once_one_invitation_is_accepted_the_other_organization_s_is_not_sent(
    org_admin, organization, other_member, other_organization
):
    first = invite(organization, org_admin)
    invitation_send_due()
    invite(other_organization, other_member)
    first.user.set_password("a-long-new-passphrase")  # accepted the first invitation
    first.user.save()

    assert invitation_send_due() == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_re_inviting_a_member_is_refused_and_re_inviting_a_removed_one_invites_again(org_admin, organization):
    membership = invite(organization, org_admin)
    invitation_send_due()

    with pytest.raises(ApplicationError):
        invite(organization, org_admin)
    assert invitation_send_due() == 0
    member_remove(membership=membership, removed_by=org_admin)
    again = invite(organization, org_admin)

    assert invitation_send_due() == 1
    assert len(mail.outbox) == 2
    assert owed(again)[1] is not None


@pytest.mark.django_db
def test_the_link_is_made_when_the_mail_is_sent_and_lets_the_person_choose_a_password(client, org_admin, organization):
    invite(organization, org_admin, email="new@acme.example")
    with time_machine.travel(datetime.now(UTC) + timedelta(days=2)):  # a mail delayed by a long outage
        invitation_send_due()

    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line).strip()
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    with time_machine.travel(datetime.now(UTC) + timedelta(days=4)):  # still within three days of the mail
        response = client.get(path, follow=True)
        response = client.post(
            response.redirect_chain[-1][0],
            {"new_password1": "a-long-new-passphrase", "new_password2": "a-long-new-passphrase"},
        )

    assert response.status_code == 302
    assert User.objects.get(email="new@acme.example").check_password("a-long-new-passphrase")


# ------------------------------------------------------------------------------------------------ failures and leases


@pytest.mark.django_db
@time_machine.travel(NOON, tick=False)
def test_a_mail_server_that_refuses_delays_the_invitation_with_back_off(settings, org_admin, organization):
    membership = invite(organization, org_admin)
    mail_server_down(settings)

    assert invitation_send_due() == 0
    due_at, sent_at, attempts = owed(membership)
    assert (sent_at, attempts) == (None, 1)
    assert due_at is not None
    assert timedelta(seconds=30) <= due_at - NOON <= timedelta(seconds=33)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(due_at - timedelta(seconds=1), tick=False):
        assert invitation_send_due() == 0  # not before its retry
    with time_machine.travel(due_at, tick=False):
        assert invitation_send_due() == 1
    assert owed(membership) == (None, due_at, 2)


@pytest.mark.django_db
def test_an_invitation_failing_for_a_day_is_given_up(settings, org_admin, organization):
    membership = invite(organization, org_admin)
    Membership.objects.filter(pk=membership.pk).update(invitation_attempts=MAX_ATTEMPTS - 1)
    mail_server_down(settings)

    assert invitation_send_due() == 0
    assert owed(membership) == (None, None, MAX_ATTEMPTS)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert invitation_send_due() == 0


@pytest.mark.django_db
@time_machine.travel(NOON, tick=False)
def test_an_invitation_a_crashed_worker_held_is_sent_after_its_lease(org_admin, organization):
    membership = invite(organization, org_admin)
    assert invitation_claim(now=NOON) is not None  # the worker that claimed it died before sending

    with time_machine.travel(NOON + CLAIM_LEASE - timedelta(seconds=1), tick=False):
        assert invitation_send_due() == 0
    with time_machine.travel(NOON + CLAIM_LEASE, tick=False):
        assert invitation_send_due() == 1
    assert owed(membership) == (None, NOON + CLAIM_LEASE, 2)


@pytest.mark.django_db
@time_machine.travel(NOON, tick=False)
def test_a_lease_holder_whose_lease_was_taken_over_sends_nothing(org_admin, organization):
    invite(organization, org_admin)
    stale = invitation_claim(now=NOON)
    assert stale is not None
    later = NOON + CLAIM_LEASE
    with time_machine.travel(later, tick=False):
        current = invitation_claim(now=later)
    assert current is not None

    assert invitation_send(membership_id=stale[0], leased_until=stale[1], now=later) is False
    assert invitation_send(membership_id=current[0], leased_until=current[1], now=later) is True
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_claim_skips_invitations_another_worker_has_locked(org_admin, organization):
    locked = invite(organization, org_admin, email="locked@acme.example")
    free = invite(organization, org_admin, email="free@acme.example")
    other = connections.create_connection("default")  # a second session, as a concurrent sweep has
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute("SELECT id FROM tenancy_membership WHERE id = %s FOR UPDATE", [locked.pk])

            assert invitation_send_due() == 1
            assert [message.to for message in mail.outbox] == [["free@acme.example"]]
    finally:
        other.rollback()
        other.close()
    assert owed(free)[0] is None
    assert owed(locked)[2] == 0  # untouched, for the next sweep


# ------------------------------------------------------------------------------------------------ broker down


@pytest.fixture
def broker_down(monkeypatch) -> Iterator[None]:
    """The after-commit wake-up publishes to a port nobody listens on: Celery's publish fails as with Redis down."""
    publisher = WakeUpPublisher(
        f"redis://127.0.0.1:{free_port()}/0", task="tenancy.send_due_invitations", queue="notifications"
    )
    monkeypatch.setattr(tenancy.services, "send_due_invitations_task", publisher)
    try:
        yield
    finally:
        publisher.close()


@pytest.mark.django_db(transaction=True)  # the wake-up runs when the request's transaction really commits
def test_the_api_invites_with_the_broker_down_and_the_sweep_sends_later(
    broker_down, api_client, org_admin, organization
):
    client = api_client(org_admin)
    started = time.monotonic()
    response = client.post(
        "/api/v1/orgs/acme/members/", {"email": "grace@acme.example", "role": "member"}, format="json"
    )
    answered_in = time.monotonic() - started

    assert response.status_code == 201
    assert answered_in < 0.5  # the wake-up is published once: the request never waits on publish retries
    assert response.json()["invitation_pending"] is True
    membership = Membership.objects.get(organization=organization, user__email="grace@acme.example")
    assert owed(membership)[0] is not None
    assert mail.outbox == []
    assert (invitation_send_due(), invitation_send_due()) == (1, 0)
    assert [message.to for message in mail.outbox] == [["grace@acme.example"]]


@pytest.mark.django_db(transaction=True)
def test_the_members_page_invites_with_the_broker_down_and_the_sweep_sends_later(broker_down, org_admin, organization):
    client = Client()
    client.force_login(org_admin)

    response = client.post(
        reverse("member-list", kwargs={"org_slug": "acme"}), {"email": "grace@acme.example", "role": "member"}
    )

    assert response.status_code == 302
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "grace@acme.example is now a member of Acme Corp. An invitation e-mail is on its way."
    ]
    assert Membership.objects.filter(organization=organization, user__email="grace@acme.example").exists()
    assert (invitation_send_due(), invitation_send_due()) == (1, 0)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_invitation_queued_by_the_previous_release_is_sent_once(organization):
    """The release before owed nothing in the database: it queued `tenancy.send_invitation` with the user's and the
    organization's ids after adding the member."""
    user = User.objects.create_user(email="grace@acme.example")
    membership = MembershipFactory.create(organization=organization, user=user)

    send_invitation_queued_by_the_previous_release(user.pk, organization.pk)
    send_invitation_queued_by_the_previous_release(user.pk, organization.pk)  # redelivered

    assert [message.to for message in mail.outbox] == [["grace@acme.example"]]
    assert owed(membership)[1] is not None


# ------------------------------------------------------------------------------------------------ wiring


def test_beat_runs_the_invitation_sweep_on_the_mail_queue_and_each_run_expires_before_the_next():
    entry: dict[str, Any] = django_settings.CELERY_BEAT_SCHEDULE["tenancy-send-due-invitations"]
    route = app.amqp.router.route({}, send_due_invitations.name)

    assert entry["task"] == send_due_invitations.name
    assert entry["options"]["expires"] <= entry["schedule"].run_every.total_seconds()
    assert route["queue"].name == "notifications"  # beside the outbox: a slow mail server delays no other work


# ------------------------------------------------------------------------------------------------ what admins see


@pytest.mark.django_db
def test_the_members_pages_say_how_each_invitation_stands(settings, org_admin, organization):
    client = Client()
    client.force_login(org_admin)
    pages = [
        reverse("member-list", kwargs={"org_slug": "acme"}),
        reverse("organization-overview", kwargs={"org_slug": "acme"}),
    ]

    def status_of(email: str) -> set[str]:
        found = set()
        for page in pages:
            row = re.search(rf"<td>{re.escape(email)}</td>.*?</tr>", client.get(page).content.decode(), re.S)
            assert row, (page, email)
            found |= {label for label in STATUS_LABELS if label in row.group()}
        return found

    owed_one = invite(organization, org_admin, "grace@acme.example")
    assert status_of("grace@acme.example") == {"Invitation on its way"}
    assert invitation_send_due() == 1
    assert status_of("grace@acme.example") == {"Invitation sent"}
    owed_one.user.set_password("a long and private passphrase")
    owed_one.user.save()
    assert status_of("grace@acme.example") == {"Active"}

    invite(organization, org_admin, "linus@acme.example")
    Membership.objects.filter(user__email="linus@acme.example").update(invitation_attempts=MAX_ATTEMPTS - 1)
    mail_server_down(settings)
    assert invitation_send_due() == 0
    assert status_of("linus@acme.example") == {"Invitation not delivered"}


STATUS_LABELS = ("Active", "Invitation sent", "Invitation on its way", "Invitation not delivered")
