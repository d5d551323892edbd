"""An invitation made while Redis is down, end to end with real processes: gunicorn answers 201 although the wake-up
cannot be queued, and once Redis is back the beat sweep on a real worker mails the invitation exactly once.

The processes use the test database and a private redis-server on a free port (see `tests.processes.stack`); the
shared Redis is never touched.
"""

import http.client
import json
import os
import sys
import time
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.utils import timezone

from tenancy.models import Membership, Organization, User
from tenancy.services import api_token_issue
from tests.processes.stack import Stack, Web, database_url, sent_message_ids, wait_for

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

# Beat's first run of the invitation sweep comes one interval (30 s) after beat starts; then a worker picks it up.
SENT_TIMEOUT = 90


@pytest.fixture
def report(capsys) -> Callable[[str], None]:
    """Figures for the run's output, shown without -s."""

    def write(line: str) -> None:
        with capsys.disabled():
            sys.stdout.write(f"\n    {line}")

    return write


@pytest.fixture
def stack(transactional_db, tmp_path) -> Iterator[Stack]:
    """Processes of this test only, stopped by PID before the test database is flushed. Its redis-server is not
    started until the test says so: until then its port is closed, as a broker that is down."""
    stack = Stack(folder=tmp_path, database_url=database_url(settings.DATABASES["default"]), base_env=dict(os.environ))
    stack.mail_dir.mkdir()
    try:
        yield stack
    finally:
        stack.stop_all()


def post_json(web: Web, path: str, body: dict[str, str], *, token: str) -> tuple[int, dict[str, object], float]:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
    try:
        headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}
        conn.request("POST", path, body=json.dumps(body), headers=headers)
        response = conn.getresponse()
        payload = response.read()
    finally:
        conn.close()
    return response.status, json.loads(payload or b"{}"), time.monotonic() - started


def test_an_invitation_made_while_redis_is_down_is_mailed_once_redis_is_back(
    stack: Stack, org_admin: User, organization: Organization, report: Callable[[str], None]
) -> None:
    started = time.monotonic()
    token = api_token_issue(user=org_admin)
    web = stack.start_web()

    status, body, seconds = post_json(
        web, "/api/v1/orgs/acme/members/", {"email": "grace@acme.example", "role": "member"}, token=token
    )

    assert status == 201, body
    membership = Membership.objects.select_related("user").get(public_id=str(body["id"]))
    assert membership.user.email == "grace@acme.example"
    assert membership.invitation_due_at is not None
    assert "in on_commit()" in web.log_text(), "the wake-up was expected to fail with the broker down"

    stack.start_redis()  # empty: the wake-up of the invitation never reached it
    back_at = timezone.now()
    stack.start_worker()
    stack.start_beat()

    def sent() -> Membership | None:
        return Membership.objects.filter(pk=membership.pk, invitation_sent_at__isnull=False).first()

    try:
        settled: Membership = wait_for(sent, timeout=SENT_TIMEOUT, message="the invitation to be sent")
    except AssertionError as error:
        raise AssertionError(f"{error}\n{stack.logs()}") from None
    emails = sent_message_ids(stack.mail_dir)
    assert len(emails) == 1
    assert emails[0].startswith(f"<invitation-{membership.public_id}@")
    assert settled.invitation_due_at is None
    assert settled.invitation_sent_at is not None
    report(
        f"invited with Redis down: 201 in {seconds * 1000:.0f} ms; mailed "
        f"{(settled.invitation_sent_at - back_at).total_seconds():.1f} s after Redis was back; "
        f"test {time.monotonic() - started:.1f} s"
    )
