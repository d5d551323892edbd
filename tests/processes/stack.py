"""Real processes for the fault tests (SLA, notifications, the portal under faults): a private redis-server, Celery
workers and beats, and gunicorn.

Every process is started here in its own session (so its process group is its own PID) and stopped by that PID,
never by name. The shared PostgreSQL and Redis on the standard ports are never touched: the processes use the
test database and a redis-server started on a free port in the test's temporary directory. A PostgreSQL backend is
only ever looked for among the test database's own.

`MailDirBackend` is an e-mail backend for those processes: it writes each message to its own file, so a test can
count what was really sent across processes (Django's locmem backend lives in one process only).
"""

import contextlib
import hashlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import psycopg2
from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage
from django.db import connection

if TYPE_CHECKING:
    from tenancy.models import User

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MAIL_DIR_ENV = "FAULTS_MAIL_DIR"
WORKER_QUEUES = "default,sla,notifications"


class MailDirBackend(BaseEmailBackend):
    """One file per message in $FAULTS_MAIL_DIR, written atomically (a reader never sees half a message)."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        folder = Path(os.environ[MAIL_DIR_ENV])
        for message in email_messages:
            name = uuid.uuid4().hex
            partial = folder / f".{name}.tmp"
            partial.write_bytes(message.message().as_bytes())
            partial.rename(folder / f"{name}.eml")
        return len(email_messages)


def message_id(idempotency_key: str) -> str:
    """The Message-ID the outbox gives the e-mail of this message (the same on every attempt)."""
    domain = urlsplit(settings.PORTAL_BASE_URL).hostname or "walt-portal"
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()}@{domain}>"


def sent_message_ids(folder: Path) -> list[str]:
    """The Message-ID of every e-mail MailDirBackend wrote, one entry per message (duplicates kept)."""
    return [
        "".join(str(message_from_bytes(path.read_bytes())["Message-ID"]).split())  # unfolded
        for path in sorted(folder.glob("*.eml"))
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], Any], *, timeout: float = 30, interval: float = 0.2, message: str = "") -> Any:
    """Poll `condition` until it returns something truthy, and return that; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {message or condition!r}")
        time.sleep(interval)


def database_url(settings_database: dict[str, Any]) -> str:
    """A DATABASE_URL naming the database the test process uses (at runtime: the test database)."""
    user = quote(str(settings_database.get("USER") or ""), safe="")
    password = quote(str(settings_database.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_database.get("HOST") or "127.0.0.1"
    port = settings_database.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{quote(str(settings_database['NAME']), safe='')}"


@dataclass
class Process:
    """A process this module started, in its own session: its PID is also its process group id."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole process group (a prefork worker's pool processes die with it), then reap it."""
        self._signal_group(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, *, timeout: float = 20) -> int | None:
        """SIGTERM the leader (a warm shutdown), SIGKILL the group if it does not end in time; the exit code."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        self._signal_group(signal.SIGKILL)  # stragglers of our own group only
        try:
            return self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            return None

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(self.pid, signum)


def _spawn(name: str, command: list[str], *, env: dict[str, str], log: Path) -> Process:
    with log.open("ab") as out:
        popen = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Process(name=name, popen=popen, log=log)


@dataclass
class Stack:
    """A private redis-server plus the Celery workers and beats of one test, all stopped by `stop_all()`."""

    folder: Path
    database_url: str
    base_env: dict[str, str]
    redis_port: int = field(default_factory=free_port)
    redis: Process | None = None
    workers: list[Process] = field(default_factory=list)
    beats: list[Process] = field(default_factory=list)
    webs: list["Web"] = field(default_factory=list)
    _started: int = 0

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def mail_dir(self) -> Path:
        return self.folder / "mail"

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """What every process of the stack runs with; `extra` adds to it or overrides it for one process."""
        env = dict(self.base_env)
        env |= {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "CELERY_BROKER_URL": self.redis_url,
            "SLA_SWEEP_INTERVAL_SECONDS": "1",
            "DJANGO_DEBUG": "false",
            "DJANGO_SETTINGS_MODULE": "walt_portal.settings",
            "PORTAL_VAR_DIR": str(self.folder),
            "EMAIL_BACKEND": "tests.processes.stack.MailDirBackend",
            MAIL_DIR_ENV: str(self.mail_dir),
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
        return env | (extra or {})

    def _log(self, name: str) -> Path:
        self._started += 1
        return self.folder / f"{self._started:02d}-{name}.log"

    # ------------------------------------------------------------ redis
    def start_redis(self) -> Process:
        assert self.redis is None or not self.redis.alive(), "redis-server is running already"
        data = self.folder / "redis"
        data.mkdir(exist_ok=True)
        command = [
            "redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(data), "--maxmemory-policy", "noeviction",
        ]  # fmt: skip
        self.redis = _spawn("redis", command, env=dict(os.environ), log=self._log("redis"))
        wait_for(self._redis_answers, timeout=10, interval=0.05, message="redis-server to answer PING")
        return self.redis

    def stop_redis(self) -> None:
        assert self.redis is not None
        self.redis.stop()

    def _redis_answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    # ------------------------------------------------------------ celery
    def start_worker(
        self, *, wait: bool = True, queues: str = WORKER_QUEUES, concurrency: int = 2, env: dict[str, str] | None = None
    ) -> Process:
        name = f"faults{len(self.workers)}@%h"
        command = [
            str(BIN / "celery"), "-A", "walt_portal", "worker", "--queues", queues,
            "--concurrency", str(concurrency), "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--loglevel", "INFO", "-n", name,
        ]  # fmt: skip
        worker = _spawn("worker", command, env=self.env(env), log=self._log("worker"))
        self.workers.append(worker)
        if wait:
            wait_for(lambda: self._ready(worker, " ready."), timeout=60, message="the Celery worker to be ready")
        return worker

    def start_beat(
        self, *, schedule: str = "beat-schedule", wait: bool = True, env: dict[str, str] | None = None
    ) -> Process:
        command = [
            str(BIN / "celery"), "-A", "walt_portal", "beat", "--schedule", str(self.folder / schedule),
            "--loglevel", "INFO",
        ]  # fmt: skip
        beat = _spawn("beat", command, env=self.env(env), log=self._log("beat"))
        self.beats.append(beat)
        if wait:
            wait_for(lambda: self._ready(beat, "Sending due task"), timeout=60, message="beat to send its first task")
        return beat

    # ------------------------------------------------------------ web
    def start_web(self, *, workers: int = 1, env: dict[str, str] | None = None) -> "Web":
        """gunicorn serving the portal as production does, on a free loopback port; returns once it answers."""
        port = free_port()
        command = [
            str(BIN / "gunicorn"), "walt_portal.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--no-control-socket", "--access-logfile", "-",
        ]  # fmt: skip
        process = _spawn("web", command, env=self.env(env), log=self._log("web"))
        web = Web(name=process.name, popen=process.popen, log=process.log, port=port)
        self.webs.append(web)
        wait_for(lambda: self._ready(web, "Booting worker") and web.answers(), timeout=60, message="gunicorn")
        return web

    @staticmethod
    def _ready(process: Process, marker: str) -> bool:
        if not process.alive():
            raise AssertionError(
                f"{process.name} exited with {process.popen.returncode}:\n{process.log_text()[-4000:]}"
            )
        return marker in process.log_text()

    def running(self) -> Iterable[Process]:
        return [p for p in (*self.webs, *self.workers, *self.beats, self.redis) if p is not None and p.alive()]

    def stop_all(self, *, timeout: float = 10) -> None:
        """SIGTERM every web and Celery process at once, wait for them together, then stop redis-server."""
        celery = [process for process in (*self.webs, *self.beats, *self.workers) if process.alive()]
        for process in celery:
            process.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in celery:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            process.stop(timeout=0)  # SIGKILLs what is left of its group
        if self.redis is not None:
            self.redis.stop()

    def logs(self, *, tail: int = 3000) -> str:
        """The end of every process log, for an assertion message."""
        return "\n".join(
            f"----- {path.name}\n{path.read_text(errors='replace')[-tail:]}"
            for path in sorted(self.folder.glob("*.log"))
        )


@dataclass
class Web(Process):
    """A gunicorn the stack started: its master is the process (group) leader."""

    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answers(self) -> bool:
        """A worker answered a request. The master accepts connections before its workers have loaded the portal, so a
        request timed from then would count the worker's start-up as its own time."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", "/accounts/login/")
            return conn.getresponse().status == HTTPStatus.OK
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()


def count_in_logs(logs: Iterable[Process], needle: str) -> int:
    return sum(process.log_text().count(needle) for process in logs)


class WakeUpPublisher:
    """Stands in for a wake-up task (`notifications.tasks.deliver_due` unless told otherwise) in the test process,
    whose Celery app points at the shared broker: the after-commit wake-ups of changes made by the test go to the
    private broker instead, or to a closed port to play a broker that is down.

    The connection is made explicitly: Celery prefers the CELERY_BROKER_URL environment variable (the shared broker,
    in the test run) to any broker an app is given."""

    def __init__(
        self, broker_url: str, *, task: str = "notifications.deliver_due", queue: str = "notifications"
    ) -> None:
        from celery import Celery

        self.task = task
        self.queue = queue
        self.app = Celery("faults-client", broker=broker_url, set_as_current=False)
        self.app.conf.broker_connection_retry_on_startup = False
        self.app.conf.broker_connection_timeout = 1
        self.connection = self.app.connection_for_write(broker_url)

    def apply_async(self, *, retry_policy: dict[str, int] | None = None) -> None:
        self.app.send_task(self.task, queue=self.queue, connection=self.connection, retry_policy=retry_policy)

    def close(self) -> None:
        self.connection.release()
        self.app.close()


class NoWakeUp:
    """Stands in for `notifications.tasks.deliver_due` when a test wants no broker at all."""

    def apply_async(self, *, retry_policy: dict[str, int] | None = None) -> None:
        return None


# ---------------------------------------------------------------- PostgreSQL backends of the stack's processes


@dataclass(frozen=True)
class Backend:
    pid: int
    in_transaction_for: float
    query: str


@contextlib.contextmanager
def outbox_key_held(key: str, *, recipient: "User") -> Iterator[None]:
    """Insert an outbox message with `key` in a transaction of our own that stays open until the block ends, then
    roll it back. A sweep that notifies with the same key waits for it in the middle of its transaction (the unique
    index must know whether ours commits): the window in which the sweep is killed is held open, not raced."""
    holder = psycopg2.connect(database_url(settings.DATABASES["default"]))
    try:
        with holder.cursor() as cursor:
            cursor.execute(
                "INSERT INTO notifications_outboxmessage (idempotency_key, channel, recipient_id, subject, body, link, "
                "status, attempts, next_attempt_at, last_error, created_at) "
                "VALUES (%s, 'email', %s, 'held', 'held', '', 'pending', 0, now(), '', now())",
                [key, recipient.pk],
            )
        yield
    finally:
        holder.rollback()
        holder.close()


@contextlib.contextmanager
def outbox_row_locked(message_id: int) -> Iterator[None]:
    """Lock an outbox message's row in a transaction of our own until the block ends: a worker that marks it sent
    waits for us there, after its mail server accepted the message, so a kill can land in that window."""
    holder = psycopg2.connect(database_url(settings.DATABASES["default"]))
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT id FROM notifications_outboxmessage WHERE id = %s FOR UPDATE", [message_id])
        yield
    finally:
        holder.rollback()
        holder.close()


def outbox_write_waiting(application_name: str) -> Backend | None:
    """The backend of a worker (its connections carry `application_name`) that waits on a lock to write the outbox:
    a sweep inside its transaction, writing its notices, or a delivery marking a message sent."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, extract(epoch FROM clock_timestamp() - xact_start), query FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s AND wait_event_type = 'Lock' "
            "AND query LIKE %s",
            [application_name, "%notifications_outboxmessage%"],
        )
        row = cursor.fetchone()
    return Backend(pid=int(row[0]), in_transaction_for=float(row[1]), query=str(row[2])) if row else None


def backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == 0
