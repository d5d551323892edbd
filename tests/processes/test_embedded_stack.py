"""The embedded default of `make run`: SQLite and Celery's filesystem transport, with real web, worker and beat."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.processes

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def embedded_env(tmp_path):
    env = {
        key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
    }
    env |= {"DJANGO_DEBUG": "true", "DJANGO_HTTPS": "false", "PORTAL_VAR_DIR": str(tmp_path)}
    env.pop("DJANGO_SECRET_KEY", None)
    env.pop("DJANGO_ALLOWED_HOSTS", None)
    for folder in ("celery/broker", "celery/processed", "celery/control", "cache"):
        (tmp_path / folder).mkdir(parents=True)
    return env


def _manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=True
    )


def _healthz(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return 0, {}


def _assert_the_queue_columns_are_derived(database: Path) -> None:
    """The portable path of the SLA summary writer: every seeded open ticket's risk columns lie in its window."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT reference, received_at, sla_at_risk_from, sla_risk_due_at FROM tickets_ticket "
            "WHERE status IN ('new', 'open', 'waiting_on_customer')"
        ).fetchall()
    assert rows
    for reference, received_at, at_risk_from, risk_due_at in rows:
        assert received_at < at_risk_from < risk_due_at, reference


def test_make_run_stack_serves_the_portal_with_worker_and_beat_alive(embedded_env, tmp_path):
    _manage(embedded_env, "migrate", "--noinput")
    first = _manage(embedded_env, "seed_demo").stdout
    second = _manage(embedded_env, "seed_demo").stdout
    assert "ada@acme.example" in first
    assert first == second  # idempotent
    assert (tmp_path / "portal.sqlite3").exists()
    _assert_the_queue_columns_are_derived(tmp_path / "portal.sqlite3")

    port = _free_port()
    commands = [
        [str(BIN / "gunicorn"), "walt_portal.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        [
            str(BIN / "celery"),
            "-A",
            "walt_portal",
            "worker",
            "--queues",
            "default,sla,notifications,monitoring",
            "--concurrency",
            "1",
        ],
        [str(BIN / "celery"), "-A", "walt_portal", "beat", "--schedule", str(tmp_path / "beat-schedule")],
    ]
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=embedded_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for command in commands
    ]
    try:
        deadline = time.monotonic() + 90
        status, body = 0, dict[str, Any]()
        while time.monotonic() < deadline:
            status, body = _healthz(f"http://127.0.0.1:{port}/healthz")
            if status == 200:
                break
            time.sleep(1)

        assert status == 200, body
        assert body["beat"]["heartbeat_age_seconds"] < 60
        assert body["broker"]["ok"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as login:
            assert b"Sign in" in login.read()
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
