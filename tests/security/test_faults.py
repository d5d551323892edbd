"""Faults with real processes: Redis down or wiped, a worker killed mid-send, a PostgreSQL backend terminated
mid-sweep, the mail server down and back.

Each test starts its own redis-server on a free port, its own Celery worker (and beat, and gunicorn where the test
needs them) against the test database, breaks one thing, and then polls the database until everything settled. The
same invariants end every test: no ticket lost, no notice missed, none duplicated (one in-app notice per in-app
message; one e-mail per e-mail message, except where a send was cut after the mail server accepted it, and then
every copy carries the same Message-ID), and lateness bounded by the outage.

Processes cannot share the test's clock, so deadlines are real and a few seconds ahead (a contract override of
seconds). Two waits the product measures in minutes are skipped by moving the row's own timestamp instead: the
lease a killed worker held (ten minutes) and the back-off before a retry (30 s and doubling).
"""

import http.client
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

import notifications.services
from notifications.models import Notification, OutboxMessage
from sla.models import Clock, ClockKind, ClockState, Record
from sla.services import policy_version_create
from tenancy.models import Organization, User
from tenancy.services import api_token_issue
from tests.factories import ContractFactory, MembershipFactory, OrganizationFactory, StaffFactory
from tests.processes.smtp_sink import SmtpSink
from tests.processes.stack import (
    Process,
    Stack,
    WakeUpPublisher,
    Web,
    backend_gone,
    count_in_logs,
    database_url,
    message_id,
    outbox_key_held,
    outbox_row_locked,
    outbox_write_waiting,
    sent_message_ids,
    wait_for,
)
from tickets.models import Ticket, TicketType
from tickets.services import ticket_open

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

CHANNELS = (OutboxMessage.Channel.EMAIL, OutboxMessage.Channel.IN_APP)
SETTLE_TIMEOUT = 60
SWEEP_INTERVAL = 1  # seconds: SLA_SWEEP_INTERVAL_SECONDS of the stack's processes
# A breach is recorded within this long after the later of its deadline and the end of the outage: a sweep interval,
# the broker reconnecting, and a busy two-core machine.
LATENESS_SLACK = 15.0
SWEEPER = "faults-sweeper"
SENDER = "faults-sender"


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture
def report(capsys) -> Callable[[str], None]:
    """Figures for the run's output, shown without -s."""

    def write(line: str) -> None:
        with capsys.disabled():
            sys.stdout.write(f"\n    {line}")

    return write


@dataclass
class Faults:
    stack: Stack
    wake_ups: WakeUpPublisher

    def wake_up(self) -> None:
        """What an after-commit wake-up does: ask the stack's worker to deliver what is due now."""
        self.wake_ups.apply_async()


@pytest.fixture
def faults(transactional_db, tmp_path, monkeypatch) -> Iterator[Faults]:
    """A private redis-server; the test starts the processes it needs. The test process's own after-commit wake-ups
    go to that redis-server too. Everything is stopped by PID before the test database is flushed."""
    stack = Stack(folder=tmp_path, database_url=database_url(settings.DATABASES["default"]), base_env=dict(os.environ))
    stack.mail_dir.mkdir()
    stack.start_redis()
    publisher = WakeUpPublisher(stack.redis_url)
    monkeypatch.setattr(notifications.services, "deliver_due_task", publisher)
    try:
        yield Faults(stack=stack, wake_ups=publisher)
    finally:
        stack.stop_all()
        publisher.close()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    try:
        yield sink
    finally:
        sink.close()


def smtp_env(sink: SmtpSink, **extra: str) -> dict[str, str]:
    """A worker that sends its e-mail to the sink, through Django's real SMTP backend."""
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
    } | extra


# ------------------------------------------------------------------------------------------------ the scene


@dataclass
class Scene:
    """A customer whose contract answers and resolves within `seconds`, one engineer on duty (every new ticket is
    announced to them) and one support admin (who hears of every warning and breach)."""

    organization: Organization
    requester: User
    engineer: User
    admin: User
    tickets: list[Ticket] = field(default_factory=list)

    def open(self, count: int, *, subject: str = "Checkout returns 502") -> list[Ticket]:
        opened = [
            ticket_open(
                organization=self.organization,
                requester=self.requester,
                subject=f"{subject} ({number})",
                description="",
                ticket_type="incident",
                priority="P2",
                source="portal",
            )
            for number in range(count)
        ]
        self.tickets += opened
        return opened


def scene(*, seconds: int) -> Scene:
    organization = OrganizationFactory.create()
    ContractFactory.create(organization=organization)
    requester = MembershipFactory.create(organization=organization).user
    engineer = StaffFactory.create(staff_role=User.StaffRole.SUPPORT_ENGINEER, on_duty=True)
    admin = StaffFactory.create(staff_role=User.StaffRole.SUPPORT_ADMIN)
    policy_version_create(
        organization=organization,
        overrides={
            "first_response_seconds": {"*": seconds},
            "resolution_seconds": {ticket_type: {"*": seconds} for ticket_type in TicketType.values},
        },
        created_by=admin,
        reason="Fault test: deadlines a few seconds ahead",
        at=timezone.now(),
    )
    return Scene(organization=organization, requester=requester, engineer=engineer, admin=admin)


# ------------------------------------------------------------------------------------------------ invariants


def expected_keys(scene: Scene) -> Counter[str]:
    """Every outbox message the scene's tickets and SLA records call for, once each: the new-ticket notice to the
    engineer on duty, and each breach (and each warning recorded before its deadline) to that engineer and the
    support admin, by e-mail and in-app."""
    keys: Counter[str] = Counter()
    for ticket in Ticket.objects.filter(organization=scene.organization):
        keys.update(f"ticket-opened:{ticket.public_id}:{channel}:{scene.engineer.pk}" for channel in CHANNELS)
    for record in Record.objects.filter(ticket__organization=scene.organization).select_related("clock"):
        deadline = record.clock.due_at  # a warning record's own due_at is its warning point
        if record.kind == Record.Kind.BREACH or (deadline is not None and record.recorded_at < deadline):
            keys.update(
                f"sla-{record.kind}:{record.clock_id}:{channel}:{user.pk}"
                for channel in CHANNELS
                for user in (scene.engineer, scene.admin)
            )
    return keys


def settled(*, breached: bool) -> bool:
    """Every outbox message sent and, with `breached`, every clock breached."""
    if breached and Clock.objects.exclude(state=ClockState.BREACHED).exists():
        return False
    return (
        OutboxMessage.objects.exists() and not OutboxMessage.objects.exclude(status=OutboxMessage.Status.SENT).exists()
    )


def wait_until_settled(stack: Stack, *, breached: bool, timeout: float = SETTLE_TIMEOUT) -> float:
    started = time.monotonic()
    try:
        wait_for(lambda: settled(breached=breached), timeout=timeout, message="every notice sent")
    except AssertionError as error:
        clocks = Counter(Clock.objects.values_list("state", flat=True))
        outbox = Counter(OutboxMessage.objects.values_list("status", flat=True))
        unsent = OutboxMessage.objects.exclude(status=OutboxMessage.Status.SENT).values(
            "idempotency_key", "status", "attempts", "next_attempt_at", "leased_until", "last_error"
        )
        raise AssertionError(
            f"{error} at {timezone.now()}\nclocks: {clocks}\noutbox: {outbox}\nunsent: {list(unsent)[:5]}\n"
            f"{stack.logs()}"
        ) from None
    return time.monotonic() - started


def assert_delivered_exactly_once(scene: Scene, *, emails: list[str]) -> dict[str, int]:
    """No notice missed, none duplicated: exactly the expected outbox messages, each sent; one in-app notice per in-app
    message; one e-mail per e-mail message among `emails` (the Message-IDs that reached the mail server)."""
    outbox = list(OutboxMessage.objects.all())
    expected = expected_keys(scene)
    assert Counter(message.idempotency_key for message in outbox) == expected, "a notice is missing or extra"
    assert {message.status for message in outbox} == {OutboxMessage.Status.SENT}
    in_app = [message.pk for message in outbox if message.channel == OutboxMessage.Channel.IN_APP]
    assert Counter(Notification.objects.values_list("source_id", flat=True)) == Counter(in_app)
    by_email = Counter(message_id(message.idempotency_key) for message in outbox if message.channel == "email")
    assert Counter(emails) == by_email, "an e-mail is missing or was sent twice"
    return {"tickets": len(scene.tickets), "outbox": len(outbox), "emails": len(emails), "in_app": len(in_app)}


def assert_every_clock_breached_once(scene: Scene) -> None:
    clocks = list(Clock.objects.filter(ticket__organization=scene.organization))
    assert len(clocks) == 2 * len(scene.tickets)
    assert {clock.state for clock in clocks} == {ClockState.BREACHED}
    breaches = Counter(
        Record.objects.filter(kind=Record.Kind.BREACH, ticket__organization=scene.organization).values_list(
            "clock_id", flat=True
        )
    )
    assert breaches == Counter(clock.pk for clock in clocks), "a breach is missing or was recorded twice"


def breach_lateness(scene: Scene, *, recovered_at: datetime) -> list[float]:
    """How long after the later of its deadline and the recovery each breach was recorded, in seconds."""
    records = Record.objects.filter(kind=Record.Kind.BREACH, ticket__organization=scene.organization)
    return [(record.recorded_at - max(record.due_at, recovered_at)).total_seconds() for record in records]


# ------------------------------------------------------------------------------------------------ HTTP


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, object]
    seconds: float


def post_json(web: Web, path: str, body: dict[str, object], *, token: str) -> Answer:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
    try:
        headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}
        conn.request("POST", path, body=json.dumps(body), headers=headers)
        response = conn.getresponse()
        payload = response.read()
    finally:
        conn.close()
    return Answer(status=response.status, body=json.loads(payload or b"{}"), seconds=time.monotonic() - started)


def open_through_the_api(web: Web, scene: Scene, count: int, *, token: str) -> list[Answer]:
    answers = [
        post_json(
            web,
            f"/api/v1/orgs/{scene.organization.slug}/tickets/",
            {"subject": f"Checkout returns 502 ({number})", "description": "", "type": "incident", "priority": "P2"},
            token=token,
        )
        for number in range(count)
    ]
    scene.tickets += list(Ticket.objects.filter(public_id__in=[answer.body.get("id") for answer in answers]))
    return answers


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# ------------------------------------------------------------------------------------------------ 1. Redis down


def test_redis_down_while_customers_open_tickets_loses_nothing_and_catches_up(faults, report):
    started = time.monotonic()
    stack = faults.stack
    customer = scene(seconds=6)
    token = api_token_issue(user=customer.requester)
    stack.start_worker()
    stack.start_beat()
    web = stack.start_web(workers=2)

    stack.stop_redis()  # the broker and the cache at once
    down_at = timezone.now()
    answers = open_through_the_api(web, customer, 20, token=token)
    assert [answer.status for answer in answers] == [201] * 20, [(a.status, a.body) for a in answers if a.status != 201]
    references = {answer.body["reference"] for answer in answers}
    assert set(Ticket.objects.values_list("reference", flat=True)) == references, "a ticket answered 201 is missing"
    latencies = [answer.seconds for answer in answers]
    assert p95(latencies) < 1.0, f"opening a ticket waited on the broker: {latencies}"

    last_due = max(filter(None, Clock.objects.values_list("due_at", flat=True)))
    wait_for(lambda: timezone.now() > last_due + timedelta(seconds=2), timeout=30)
    assert not Record.objects.filter(kind=Record.Kind.BREACH).exists(), "nothing sweeps while the broker is down"
    assert not OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT).exists(), "nothing is delivered either"

    stack.start_redis()  # empty: every wake-up of the outage is gone
    up_at = timezone.now()
    recovered = wait_until_settled(stack, breached=True)

    assert_every_clock_breached_once(customer)
    counts = assert_delivered_exactly_once(customer, emails=sent_message_ids(stack.mail_dir))
    lateness = breach_lateness(customer, recovered_at=up_at)
    assert max(lateness) <= LATENESS_SLACK, lateness
    alive = [process.alive() for process in (*stack.workers, *stack.beats, *stack.webs)]
    report(
        f"Redis down {(up_at - down_at).total_seconds():.1f} s while 20 tickets were opened through gunicorn: all 201, "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95(latencies) * 1000:.0f} ms; back up → every "
        f"breach and notice in {recovered:.1f} s (breach after recovery max {max(lateness):.1f} s); {counts}; "
        f"test {time.monotonic() - started:.1f} s"
    )
    assert all(alive), "the worker, beat and gunicorn ride the outage out"


# ------------------------------------------------------------------------------------------------ 2. Redis wiped


def test_redis_restarted_empty_with_wake_ups_queued_loses_no_notice(faults, report):
    started = time.monotonic()
    stack = faults.stack
    customer = scene(seconds=5)
    token = api_token_issue(user=customer.requester)
    stack.start_beat()  # beat's own messages pile up too: no worker takes them
    web = stack.start_web(workers=1)
    answers = open_through_the_api(web, customer, 10, token=token)
    assert {answer.status for answer in answers} == {201}

    broker = redis.Redis.from_url(stack.redis_url)
    queued = wait_for(lambda: broker.llen("notifications") + broker.llen("sla"), timeout=20, message="queued tasks")
    broker.close()
    stack.stop_redis()  # started with --save "" and no AOF: the queued messages are gone
    stack.start_redis()
    restarted_at = timezone.now()
    stack.start_worker()
    recovered = wait_until_settled(stack, breached=True)

    assert_every_clock_breached_once(customer)
    counts = assert_delivered_exactly_once(customer, emails=sent_message_ids(stack.mail_dir))
    lateness = breach_lateness(customer, recovered_at=restarted_at)
    assert max(lateness) <= LATENESS_SLACK, lateness
    report(
        f"Redis restarted empty with {queued} task messages queued: {counts}; worker up → all delivered "
        f"{recovered:.1f} s, breach after recovery max {max(lateness):.1f} s; test {time.monotonic() - started:.1f} s"
    )


# ------------------------------------------------------------------------------------------------ 3. kill mid-send


def expire_leases() -> int:
    """End the leases of the messages a killed worker held (any of its pool processes may have held one), as the
    clock would: they last ten minutes, so that no live worker ever sends a message twice at once, and the test does
    not wait them out. Only call it when no worker is alive. Returns how many there were."""
    now = timezone.now()
    return OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, leased_until__gt=now).update(
        leased_until=now
    )


def new_ticket_email(ticket: Ticket, customer: Scene) -> OutboxMessage:
    return OutboxMessage.objects.get(idempotency_key=f"ticket-opened:{ticket.public_id}:email:{customer.engineer.pk}")


def terminate_backend(pid: int, *, application_name: str) -> bool:
    """Terminate one PostgreSQL backend of the test database, and only if a worker named `application_name` opened
    it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE pid = %s AND application_name = %s AND datname = current_database()",
            [pid, application_name],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def send_one_to_a_stall(faults: Faults, sink: SmtpSink, customer: Scene, *, point: str) -> tuple[Ticket, Process]:
    """Open one ticket and let a worker (its connections named SENDER) send the e-mail to a sink held at `point`."""
    sink.stall_next(point)
    worker = faults.stack.start_worker(
        env=smtp_env(sink, DATABASE_URL=f"{faults.stack.database_url}?application_name={SENDER}")
    )
    (ticket,) = customer.open(1, subject=f"Killed at {point}")
    faults.wake_up()
    assert sink.stalled.wait(timeout=30), f"the worker never reached the sink's {point} stall\n{faults.stack.logs()}"
    return ticket, worker


def assert_held_by_the_dead(email: OutboxMessage) -> None:
    assert email.status == OutboxMessage.Status.PENDING, "the kill came before the message was marked"
    assert email.leased_until is not None
    assert email.leased_until > timezone.now()
    assert email.attempts == 1


def resend(faults: Faults, sink: SmtpSink) -> None:
    """A new worker delivers whatever is due once the dead one's leases are over; then it stops, so that the next
    send, and the next kill, are the next worker's."""
    resender = faults.stack.start_worker(env=smtp_env(sink))
    faults.wake_up()
    wait_until_settled(faults.stack, breached=False)
    resender.stop()


def test_a_worker_killed_mid_send_resends_with_the_same_message_id(faults, smtp_sink, report):
    started = time.monotonic()
    smtp_sink.start()
    customer = scene(seconds=3600)

    # Killed while the mail server holds the message's data and has not accepted it: nothing was delivered.
    ticket, worker = send_one_to_a_stall(faults, smtp_sink, customer, point="data")
    worker.kill()  # the whole process group, mid-send
    unaccepted = new_ticket_email(ticket, customer)
    assert_held_by_the_dead(unaccepted)
    assert smtp_sink.message_ids() == []
    assert expire_leases() >= 1
    resend(faults, smtp_sink)
    assert smtp_sink.message_ids() == [message_id(unaccepted.idempotency_key)]

    # Killed after the mail server accepted it, before the outbox heard so: the worker's mark waits on the row's lock,
    # held here, and dies with the worker and its backend. Sent again, under the same Message-ID.
    ticket, worker = send_one_to_a_stall(faults, smtp_sink, customer, point="accept")
    accepted = new_ticket_email(ticket, customer)
    with outbox_row_locked(accepted.pk):
        smtp_sink.resume()
        marking = wait_for(lambda: outbox_write_waiting(SENDER), timeout=30, message="the worker marking it sent")
        worker.kill()
        assert terminate_backend(marking.pid, application_name=SENDER)  # its statement never reached PostgreSQL
    assert_held_by_the_dead(OutboxMessage.objects.get(pk=accepted.pk))
    assert smtp_sink.message_ids().count(message_id(accepted.idempotency_key)) == 1
    assert expire_leases() >= 1
    resend(faults, smtp_sink)

    # Killed while saying goodbye to the mail server: every message it carried was already marked sent.
    ticket, worker = send_one_to_a_stall(faults, smtp_sink, customer, point="quit")
    worker.kill()
    goodbye = new_ticket_email(ticket, customer)
    assert goodbye.status == OutboxMessage.Status.SENT
    assert expire_leases() == 0
    resend(faults, smtp_sink)

    copies = Counter(smtp_sink.message_ids())
    assert copies == {
        message_id(unaccepted.idempotency_key): 1,
        message_id(accepted.idempotency_key): 2,
        message_id(goodbye.idempotency_key): 1,
    }
    assert OutboxMessage.objects.get(pk=accepted.pk).attempts == 2
    counts = assert_delivered_exactly_once(customer, emails=list(set(copies)))  # receivers dedupe by Message-ID
    report(
        f"worker SIGKILLed mid-send three times: before the server accepted → 1 copy; after it accepted, before the "
        f"outbox marked it → 2 copies with one Message-ID ({accepted.idempotency_key}); at QUIT → 1 copy; {counts}; "
        f"SMTP sessions {smtp_sink.sessions}; test {time.monotonic() - started:.1f} s"
    )


# ------------------------------------------------------------------------------------------------ 4. backend killed


def test_a_postgres_backend_terminated_mid_sweep_is_recorded_by_the_next_sweep_once(faults, report):
    started = time.monotonic()
    stack = faults.stack
    customer = scene(seconds=2)
    (first, *_) = customer.open(150)  # 300 clocks, all due before a worker runs: one sweep batch
    last_due = max(filter(None, Clock.objects.values_list("due_at", flat=True)))
    wait_for(lambda: timezone.now() > last_due, timeout=20)
    clock = Clock.objects.get(ticket=first, kind=ClockKind.FIRST_RESPONSE)

    with outbox_key_held(f"sla-breach:{clock.pk}:email:{customer.admin.pk}", recipient=customer.admin):
        worker = stack.start_worker(env={"DATABASE_URL": f"{stack.database_url}?application_name={SWEEPER}"})
        stack.start_beat()
        backend = wait_for(lambda: outbox_write_waiting(SWEEPER), timeout=30, message="a sweep writing its notices")
        committed_before = Record.objects.count()
        assert terminate_backend(backend.pid, application_name=SWEEPER)
        terminated_at = timezone.now()
        wait_for(lambda: backend_gone(backend.pid), timeout=10, interval=0.05, message="the backend to go")

    wait_for(lambda: not Clock.objects.exclude(state=ClockState.BREACHED).exists(), timeout=SETTLE_TIMEOUT)
    recorded = (timezone.now() - terminated_at).total_seconds()
    delivered = wait_until_settled(stack, breached=True) + recorded
    assert worker.alive(), "the worker itself survives losing its connection"
    assert len(stack.workers) == 1
    assert_every_clock_breached_once(customer)
    counts = assert_delivered_exactly_once(customer, emails=sent_message_ids(stack.mail_dir))
    lateness = breach_lateness(customer, recovered_at=terminated_at)
    failed = sum(
        "Task sla.sweep[" in line and "raised unexpected: OperationalError" in line
        for line in worker.log_text().splitlines()
    )
    report(
        f"backend {backend.pid} terminated {backend.in_transaction_for:.2f} s into its sweep, at "
        f"{' '.join(backend.query.split())[:30]!r}… (the task failed {failed}×; records committed then "
        f"{committed_before}): the same worker's next sweeps recorded every breach {recorded:.1f} s after the kill "
        f"and delivered every notice {delivered:.1f} s after it (breach after the kill max {max(lateness):.1f} s); "
        f"{counts}; test {time.monotonic() - started:.1f} s"
    )
    assert failed >= 1, "the terminated sweep failed as a task, it was not swallowed"
    assert committed_before == 0, "the kill was meant to interrupt the sweep's one batch"
    assert max(lateness) <= LATENESS_SLACK, lateness


# ------------------------------------------------------------------------------------------------ 5. SMTP down


def retry_now(message: OutboxMessage) -> None:
    """Skip the back-off the product waits before the next attempt (30 s, then doubling): the retry is due now."""
    OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.PENDING).update(
        next_attempt_at=timezone.now()
    )


def attempt(faults: Faults, message: OutboxMessage, *, attempts: int) -> tuple[OutboxMessage, datetime]:
    """Wake the worker up and wait for it to have tried `message` `attempts` times; the row and when it was asked."""
    asked = timezone.now()
    faults.wake_up()
    wait_for(
        lambda: OutboxMessage.objects.filter(pk=message.pk, attempts=attempts, leased_until__isnull=True).exists(),
        timeout=30,
        message=f"attempt {attempts} of {message.idempotency_key}",
    )
    return OutboxMessage.objects.get(pk=message.pk), asked


def test_the_mail_server_down_then_back_retries_with_back_off_and_dead_letters_reach_the_admin(
    faults, smtp_sink, report
):
    started = time.monotonic()
    stack = faults.stack
    customer = scene(seconds=3600)
    worker = stack.start_worker(env=smtp_env(smtp_sink, NOTIFICATIONS_MAX_ATTEMPTS="3"))
    stack.start_beat()  # its delivery sweep runs every 10 s: it must not retry before the back-off either

    # The mail server is down (its port refuses connections): the in-app notice arrives, the e-mail waits.
    (first,) = customer.open(1, subject="While the mail server is down")
    email = new_ticket_email(first, customer)
    email, asked = attempt(faults, email, attempts=1)
    assert email.status == OutboxMessage.Status.PENDING
    assert "ConnectionRefusedError" in email.last_error
    assert asked + timedelta(seconds=30) <= email.next_attempt_at <= timezone.now() + timedelta(seconds=33)
    sweeps = count_in_logs([worker], "notifications.deliver_due") + 2
    wait_for(lambda: count_in_logs([worker], "notifications.deliver_due") >= sweeps, timeout=30)
    assert OutboxMessage.objects.get(pk=email.pk).attempts == 1, "retried before its back-off"

    retry_now(email)
    email, asked = attempt(faults, email, attempts=2)
    assert email.status == OutboxMessage.Status.PENDING
    assert asked + timedelta(seconds=60) <= email.next_attempt_at <= timezone.now() + timedelta(seconds=66)
    retry_now(email)
    email, _ = attempt(faults, email, attempts=3)
    assert email.status == OutboxMessage.Status.DEAD, "three attempts is this worker's limit"

    (second,) = customer.open(1, subject="Also while the mail server is down")
    waiting = OutboxMessage.objects.get(
        idempotency_key=f"ticket-opened:{second.public_id}:email:{customer.engineer.pk}"
    )
    waiting, _ = attempt(faults, waiting, attempts=1)
    assert waiting.status == OutboxMessage.Status.PENDING

    # Support admins see the dead letter, and only it, in the Django admin.
    admin = Client()
    admin.force_login(customer.admin)
    page = admin.get("/admin/notifications/outboxmessage/", {"status__exact": "dead"})
    assert page.status_code == 200
    assert email.idempotency_key in page.content.decode()
    assert waiting.idempotency_key not in page.content.decode()

    # The mail server comes back: the waiting message goes at its next attempt, the dead one stays dead.
    smtp_sink.start()
    retry_now(waiting)
    waiting, _ = attempt(faults, waiting, attempts=2)
    assert waiting.status == OutboxMessage.Status.SENT
    assert smtp_sink.message_ids() == [message_id(waiting.idempotency_key)]
    assert OutboxMessage.objects.get(pk=email.pk).status == OutboxMessage.Status.DEAD

    # An admin revives the dead letter from the admin: delivered once, with the Message-ID it always had.
    revived = admin.post(
        "/admin/notifications/outboxmessage/", {"action": "retry_dead", "_selected_action": [str(email.pk)]}
    )
    assert revived.status_code == 302
    wait_until_settled(stack, breached=False)
    counts = assert_delivered_exactly_once(customer, emails=smtp_sink.message_ids())
    report(
        f"mail server down: attempts 1→3 ({email.last_error[:60]}…), back-off 30 s then 60 s, dead after 3 and listed "
        f"in the admin; back up: the waiting one delivered at its next attempt, the dead one after the admin's retry; "
        f"{counts}; test {time.monotonic() - started:.1f} s"
    )
