"""Real Celery processes for the bench: a worker (and a beat) against the bench database and Redis.

Each process is started in its own session, so its PID is also its process group, and is stopped by that PID: SIGTERM
to the leader (a warm shutdown), then SIGKILL to what is left of its own group. E-mail goes nowhere (Django's dummy
backend): the scenarios measure the portal's work, not a mail server's. Beat keeps its schedule file in the run's
folder, never in the portal's var/.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.procinfo import children, memory

READY_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0


class CeleryProcess:
    """`with CeleryProcess(...) as worker:` runs `celery -A walt_portal <arguments>` until the block ends."""

    def __init__(self, *, name: str, arguments: list[str], ready: str, env: dict[str, str], folder: Path) -> None:
        self.name = name
        self.arguments = arguments
        self.ready_marker = ready
        self.folder = folder
        self.log_path = folder / f"{name}.log"
        self.env = {
            **os.environ,
            **env,
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "PORTAL_VAR_DIR": str(folder / "var"),
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "CeleryProcess":
        self.folder.mkdir(parents=True, exist_ok=True)
        celery = Path(sys.executable).parent / "celery"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own celery, fixed arguments)
                [str(celery), "-A", "walt_portal", *self.arguments],
                cwd=Path(__file__).resolve().parent.parent,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: {self.log_text()[-2000:]}")
            if self.ready_marker in self.log_text():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} was not ready within {READY_TIMEOUT:.0f} s; see {self.log_path}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pids(self) -> list[int]:
        """The main process and its pool processes."""
        if self.process is None:
            return []
        return [self.process.pid, *children(self.process.pid)]

    def memory(self) -> dict[str, Any]:
        """RSS now and at its peak of the main process and of each pool process."""
        assert self.process is not None
        return {
            "main": memory(self.process.pid),
            "children": {str(pid): memory(pid) for pid in children(self.process.pid)},
        }

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_TIMEOUT)
        with contextlib.suppress(ProcessLookupError):  # our own group only: its pool processes
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT)


def worker(*, name: str, queues: str, concurrency: int, env: dict[str, str], folder: Path) -> CeleryProcess:
    arguments = [
        "worker", "--queues", queues, "--concurrency", str(concurrency), "--without-gossip", "--without-mingle",
        "--without-heartbeat", "--loglevel", "INFO", "-n", f"{name}@%h",
    ]  # fmt: skip
    return CeleryProcess(name=name, arguments=arguments, ready=" ready.", env=env, folder=folder)


def beat(*, env: dict[str, str], folder: Path) -> CeleryProcess:
    arguments = ["beat", "--schedule", str(folder / "celerybeat-schedule"), "--loglevel", "INFO"]
    return CeleryProcess(name="beat", arguments=arguments, ready="Sending due task", env=env, folder=folder)
