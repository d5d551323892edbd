"""Notices are e-mailed at their lead time, exactly once per notice (and update) and person, through the outbox."""

import smtplib
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from core.exceptions import ApplicationError
from maintenance.models import Notice
from maintenance.services import (
    notice_create,
    notice_send_due,
    notice_send_update,
    notice_update,
    occurrence_cancel,
    one_off_window_create,
)
from maintenance.tasks import send_due_notices
from notifications.models import OutboxMessage
from notifications.services import outbox_deliver_due
from tenancy.models import Membership
from tests.factories import MembershipFactory
from tests.maintenance.conftest import at

pytestmark = pytest.mark.django_db

WINDOW = at(2026, 3, 5, 6)  # the US daily window of 5 March 2026
ANNOUNCE = WINDOW - timedelta(hours=24)


class RefusingEmailBackend(BaseEmailBackend):
    """A mail server answering "try again later"."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPException("451 4.3.0 Try again later")


@pytest.fixture(autouse=True)
def _a_week_before(time_machine):
    time_machine.move_to(at(2026, 2, 26), tick=False)


@pytest.fixture
def us_key(seeded_windows):
    return f"{seeded_windows['US'].public_id}_20260305T060000Z"


def write(support_admin, key, *, publish=True, regions=(), organizations=(), **fields):
    values: dict[str, Any] = {
        "title": "Kernel updates",
        "body": "We patch **every** host; expect one reboot.",
        "severity": "minor",
        "lead_time": timedelta(hours=24),
    } | fields
    return notice_create(
        occurrence_key=key,
        regions=list(regions),
        organizations=list(organizations),
        created_by=support_admin,
        publish=publish,
        now=at(2026, 2, 26),
        **values,
    )


def sweep(time_machine, moment):
    time_machine.move_to(moment, tick=False)
    return notice_send_due(now=moment)


def emails_to(user):
    return [message for message in mail.outbox if message.to == [user.email]]


def test_nothing_goes_out_before_the_lead_time_and_every_affected_member_is_emailed_at_it(
    support_admin, us_key, members, time_machine
):
    write(support_admin, us_key)

    assert sweep(time_machine, ANNOUNCE - timedelta(microseconds=1)) == 0
    assert sweep(time_machine, ANNOUNCE) == 4  # two Initech members, e-mail and in-app each
    outbox_deliver_due()

    assert sorted(message.to[0] for message in mail.outbox) == sorted(user.email for user in members["initech"])
    [email] = emails_to(members["initech"][0])
    assert email.subject == "Maintenance: Kernel updates (2026-03-05 01:00 EST (06:00 UTC))"
    assert "When: 2026-03-05 01:00 EST (06:00 UTC) until 2026-03-05 02:00 EST (07:00 UTC)" in email.body
    assert "Impact: Minor: short interruptions possible" in email.body
    assert "We patch **every** host" in email.body
    assert email.body.endswith("/o/initech/maintenance/")
    assert all(emails_to(user) == [] for user in members["hooli"])


def test_a_sweep_that_runs_twice_sends_nothing_more(support_admin, us_key, members, time_machine):
    write(support_admin, us_key)
    sweep(time_machine, ANNOUNCE)

    assert sweep(time_machine, ANNOUNCE + timedelta(minutes=1)) == 0
    assert send_due_notices() is None  # the beat task, as a worker runs it
    outbox_deliver_due()

    assert len(mail.outbox) == 2
    assert OutboxMessage.objects.count() == 4


def test_a_sweep_killed_before_its_commit_leaves_the_notice_to_the_next_sweep(
    support_admin, us_key, members, time_machine
):
    write(support_admin, us_key)
    time_machine.move_to(ANNOUNCE, tick=False)

    def killed_mid_sweep():
        with transaction.atomic():
            notice_send_due(now=ANNOUNCE)
            raise RuntimeError("worker killed mid-sweep")

    with pytest.raises(RuntimeError):
        killed_mid_sweep()

    assert OutboxMessage.objects.count() == 0
    assert Notice.objects.get().announced_at is None
    assert sweep(time_machine, ANNOUNCE + timedelta(minutes=1)) == 4
    outbox_deliver_due()
    assert len(mail.outbox) == 2


def test_the_outbox_keys_absorb_a_notice_announced_again(support_admin, us_key, members, time_machine):
    write(support_admin, us_key)
    sweep(time_machine, ANNOUNCE)
    Notice.objects.update(announced_at=None)  # as if the mark had been lost

    assert sweep(time_machine, ANNOUNCE + timedelta(minutes=1)) == 0
    outbox_deliver_due()
    assert len(mail.outbox) == 2


def test_a_refused_email_is_retried_by_the_outbox_and_arrives_once(
    support_admin, us_key, members, time_machine, settings
):
    write(support_admin, us_key)
    sweep(time_machine, ANNOUNCE)
    settings.EMAIL_BACKEND = "tests.maintenance.test_notices.RefusingEmailBackend"
    outbox_deliver_due()
    assert mail.outbox == []

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    time_machine.move_to(ANNOUNCE + timedelta(hours=1), tick=False)
    sweep(time_machine, ANNOUNCE + timedelta(hours=1))
    outbox_deliver_due()
    outbox_deliver_due()

    assert sorted(message.to[0] for message in mail.outbox) == sorted(user.email for user in members["initech"])
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}


def test_someone_in_two_affected_organizations_is_emailed_once(support_admin, us_key, members, berlin, time_machine):
    both = members["initech"][1]
    MembershipFactory.create(organization=berlin, user=both, role=Membership.Role.MEMBER)
    write(support_admin, us_key, regions=["US", "EU"])

    sweep(time_machine, ANNOUNCE)
    outbox_deliver_due()

    assert len(emails_to(both)) == 1
    assert len(mail.outbox) == 4  # the two of each organization, once each


def test_editing_sends_nothing_and_an_update_is_sent_once_when_asked(support_admin, us_key, members, time_machine):
    notice = write(support_admin, us_key)
    sweep(time_machine, ANNOUNCE)
    notice_update(
        notice=notice,
        title="Kernel updates (extended)",
        body="Two reboots now.",
        severity="major",
        occurrence_key=us_key,
        regions=[],
        organizations=[],
        lead_time=timedelta(hours=24),
    )
    assert sweep(time_machine, ANNOUNCE + timedelta(minutes=1)) == 0

    assert notice_send_update(notice=notice, now=ANNOUNCE + timedelta(minutes=2)) is True
    assert sweep(time_machine, ANNOUNCE + timedelta(minutes=3)) == 4
    assert sweep(time_machine, ANNOUNCE + timedelta(minutes=4)) == 0
    outbox_deliver_due()

    subjects = [message.subject for message in emails_to(members["initech"][0])]
    assert subjects == [
        "Maintenance: Kernel updates (2026-03-05 01:00 EST (06:00 UTC))",
        "Updated maintenance notice: Kernel updates (extended) (2026-03-05 01:00 EST (06:00 UTC))",
    ]
    notice.refresh_from_db()
    assert (notice.update_count, notice.updates_sent) == (1, 1)
    keys = set(OutboxMessage.objects.values_list("idempotency_key", flat=True))
    assert f"maintenance-notice:{notice.public_id}:update-1:email:{members['initech'][0].pk}" in keys


def test_an_update_asked_for_before_the_announcement_is_carried_by_it(support_admin, us_key, members, time_machine):
    notice = write(support_admin, us_key)

    assert notice_send_update(notice=notice, now=at(2026, 2, 27)) is False
    sweep(time_machine, ANNOUNCE)
    outbox_deliver_due()

    assert len(emails_to(members["initech"][0])) == 1


def test_drafts_and_notices_of_windows_already_over_are_not_emailed(
    support_admin, us_key, seeded_windows, members, time_machine
):
    write(support_admin, us_key, publish=False)
    # The window of 26 February ends at 07:00; no sweep ran before that (beat was down), and afterwards the notice
    # would only confuse.
    write(support_admin, f"{seeded_windows['US'].public_id}_20260226T060000Z", title="Too late")

    assert sweep(time_machine, at(2026, 2, 26, 7)) == 0
    assert sweep(time_machine, ANNOUNCE) == 0


def test_a_notice_published_inside_its_lead_time_goes_out_at_the_next_sweep(
    support_admin, us_key, members, time_machine
):
    time_machine.move_to(WINDOW - timedelta(hours=2), tick=False)
    write(support_admin, us_key)

    assert sweep(time_machine, WINDOW - timedelta(hours=2) + timedelta(minutes=1)) == 4


def test_a_notice_concerns_its_windows_own_scope_unless_told_otherwise(support_admin, new_york, members, time_machine):
    window = one_off_window_create(
        title="Initech database migration",
        starts_at=at(2026, 3, 5, 12),
        ends_at=at(2026, 3, 5, 14),
        region="",
        organizations=[new_york],
        created_by=support_admin,
    )

    notice = write(support_admin, str(window.public_id), lead_time=timedelta(hours=2))

    assert (notice.regions, list(notice.organizations.all())) == ([], [new_york])
    assert (notice.starts_at, notice.ends_at, notice.announce_at) == (
        at(2026, 3, 5, 12),
        at(2026, 3, 5, 14),
        at(2026, 3, 5, 10),
    )
    assert sweep(time_machine, at(2026, 3, 5, 10)) == 4


def test_a_notice_about_a_cancelled_window_or_without_a_title_is_refused(support_admin, us_key, time_machine):
    with pytest.raises(ApplicationError, match="invalid fields") as refused:
        write(support_admin, us_key, title=" ")
    assert refused.value.errors[0]["field"] == "title"

    occurrence_cancel(key=us_key, reason="", cancelled_by=support_admin, now=at(2026, 2, 26))
    with pytest.raises(ApplicationError, match="cancelled"):
        write(support_admin, us_key)


def test_the_sweep_is_on_the_beat_schedule_every_minute_and_expires():
    entry: dict[str, Any] = django_settings.CELERY_BEAT_SCHEDULE["maintenance-send-due-notices"]

    assert entry["task"] == "maintenance.send_due_notices"
    assert entry["schedule"].run_every == timedelta(minutes=1)
    assert entry["options"]["expires"] == 60
