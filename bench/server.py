"""The server under test: gunicorn with N workers on a free loopback port, started and stopped by PID.

The portal by default, as production serves it: gunicorn reads the repository's gunicorn.conf.py when there is one
(worker class, threads, keep-alive), and the bench sets only the address, the number of workers and the logs. The
side-by-side benchmark serves the peer the same way, from the peer's virtualenv and with the portal's settings.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.procinfo import children, memory

HOST = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
REPORTED_SETTINGS = ("config", "worker_class", "workers", "threads", "keepalive", "timeout")


def gunicorn_settings(*, gunicorn: Path, app: str, cwd: Path) -> dict[str, str]:
    """The settings gunicorn would run `app` with from `cwd` (its config file included), as it prints them."""
    completed = subprocess.run(  # noqa: S603 (our own gunicorn, fixed arguments)
        [str(gunicorn), "--print-config", app], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )
    found = {}
    for line in completed.stdout.splitlines():
        name, separator, value = line.partition("=")
        if separator and name.strip() in REPORTED_SETTINGS:
            found[name.strip()] = value.strip()
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Portal:
    """`with Portal(...) as portal:` serves walt_portal.wsgi:application until the block ends."""

    def __init__(
        self,
        *,
        env: dict[str, str],
        workers: int,
        log_path: Path,
        cwd: Path,
        app: str = "walt_portal.wsgi:application",
        gunicorn: Path | None = None,
        ready_path: str = "/healthz",
        timeout: int | None = None,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.env = {**os.environ, **env}
        self.workers = workers
        self.log_path = log_path
        self.cwd = cwd
        self.app = app
        self.gunicorn = gunicorn or Path(sys.executable).parent / "gunicorn"
        self.ready_path = ready_path
        self.timeout = timeout
        self.extra = extra
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Portal":
        self.port = free_port()
        command = [
            str(self.gunicorn),
            self.app,
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.workers),
            "--error-logfile",
            str(self.log_path),
            # gunicorn 27's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl): another
            # gunicorn on the machine (make run, a test) would lose its own to ours.
            "--no-control-socket",
        ]
        if self.timeout is not None:  # a request slower than gunicorn's 30 s would be killed, not measured
            command += ["--timeout", str(self.timeout)]
        command += self.extra
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
            command, cwd=self.cwd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        self._wait_ready()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                status, _ = self.request("GET", self.ready_path)
            except OSError:
                time.sleep(0.2)
                continue
            # 503 is an answer too: the bench runs no Celery beat, so the heartbeat is missing.
            if status and len(self.worker_pids()) >= self.workers:
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT:.0f} s; see {self.log_path}")

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            headers = {"Content-Type": "application/json", "Accept": "application/json"}
            connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        finally:
            connection.close()
        try:
            return response.status, json.loads(payload)
        except ValueError:
            return response.status, payload.decode(errors="replace")

    def settings(self) -> dict[str, str]:
        return gunicorn_settings(gunicorn=self.gunicorn, app=self.app, cwd=self.cwd)

    def worker_pids(self) -> list[int]:
        return children(self.process.pid) if self.process else []

    def memory(self) -> dict[str, Any]:
        """RSS now and at its peak of the master and each worker."""
        assert self.process is not None
        return {
            "master": memory(self.process.pid),
            "workers": {str(pid): memory(pid) for pid in self.worker_pids()},
        }

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # gunicorn stops its workers gracefully
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
