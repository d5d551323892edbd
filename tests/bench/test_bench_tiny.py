"""A tiny-scale run of every benchmark scenario, so the harness never rots.

It checks that `python -m bench` runs end to end and reports (results.json with every scenario, results.md, one SVG
chart per scenario, the table), and that the harness itself is sound (a consistent seed before and after the run, no
failed requests, the rows of the breach sweep, of the alert processing and of the deadline-to-breach run verified); it
does not judge the figures. The run uses its own database (`<test database>_bench_tiny`, kept between runs so the tiny
seed is reused) and a private redis-server on a free port, stopped by PID; the bench starts and stops its own gunicorn
and Celery processes. The peer (`make bench-peer`) is not installed here: tests/bench/test_peer_parts.py covers what
of it runs without it.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest

pytestmark = pytest.mark.processes

ROOT = Path(__file__).resolve().parents[2]
HTTP_SCENARIOS = {
    "ticket_list_api",
    "ticket_detail_api",
    "ticket_list_html",
    "ticket_detail_html",
    "queue_html",
    "queue_api",
    "queue_filters_api",
    "queue_refresh_unchanged",
    "open_ticket_api",
    "alert_intake",
    "alert_intake_5mib_refused",
}
SCENARIOS = HTTP_SCENARIOS | {"sla_sweep_idle", "sla_sweep_10k_due", "alert_processing", "deadline_to_breach"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def bench_database_url() -> str:
    url = urlsplit(os.environ.get("DATABASE_URL", ""))
    if url.scheme not in {"postgres", "postgresql", "pgsql"}:
        pytest.skip("the benchmark needs PostgreSQL (DATABASE_URL)")
    name = url.path.lstrip("/") or "walt_portal"
    return url._replace(path=f"/{name}_bench_tiny").geturl()


@pytest.fixture
def private_redis(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp_path],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


def test_a_tiny_run_of_every_scenario_writes_its_report(bench_database_url, private_redis, tmp_path):
    out = tmp_path / "run"
    env = os.environ | {"BENCH_DATABASE_URL": bench_database_url, "BENCH_REDIS_URL": private_redis}
    started = time.monotonic()
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--scale",
            "tiny",
            "--duration",
            "1",
            "--warmup",
            "0.3",
            "--sweep-repeats",
            "20",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    assert "scenario" in completed.stdout
    assert "deadline_to_breach" in completed.stdout

    results = json.loads((out / "results.json").read_text())
    assert set(results["scenarios"]) == SCENARIOS
    assert results["scale"]["name"] == "tiny"
    assert {"cpu_count", "memory_mib"} <= set(results["machine"])
    assert {"python", "django", "postgresql"} <= set(results["versions"])
    assert not any(results["seed"]["verify"].values()), results["seed"]["verify"]
    # Every scenario that wrote was undone: the seed keeps its promises after the run.
    assert not any(results["seed_verify_after_run"].values()), results["seed_verify_after_run"]
    for name in HTTP_SCENARIOS:
        scenario = results["scenarios"][name]
        assert scenario["ok"] > 0, name
        assert scenario["errors"] == 0, (name, scenario.get("error_samples"))
        assert {"median_ms", "p95_ms", "p99_ms"} <= set(scenario["latency"])
        assert scenario["queries_per_request"] > 0, name
        assert scenario["workers_after"]["workers"], "the gunicorn workers' memory was read"
    filters = results["scenarios"]["queue_filters_api"]
    assert set(filters["labels"]) == set(filters["query_detail"]["filters"]), "every filter was timed and counted"
    assert all(figures["samples"] > 0 for figures in filters["labels"].values())
    assert results["scenarios"]["alert_intake"]["units_per_s"] > 0
    assert results["scenarios"]["alert_intake_5mib_refused"]["statuses"] == {
        "413": results["scenarios"]["alert_intake_5mib_refused"]["requests"]
    }
    assert results["scenarios"]["sla_sweep_idle"]["recorded"] == 0
    for name in ("sla_sweep_10k_due", "alert_processing", "deadline_to_breach"):
        assert results["scenarios"][name]["verified"], results["scenarios"][name]
    assert results["scenarios"]["alert_processing"]["actions"]["opened"] > 0
    assert results["scenarios"]["alert_processing"]["worker_memory"]["main"]["peak_rss_mib"] > 0
    assert results["scenarios"]["deadline_to_breach"]["latency"]["samples"] > 0
    assert results["bench_process_memory"]["peak_rss_mib"] > 0

    markdown = (out / "results.md").read_text()
    assert all(name in markdown for name in SCENARIOS)
    for name in SCENARIOS:
        chart = ElementTree.fromstring((out / f"{name}.svg").read_text())  # noqa: S314 (our own output)
        assert chart.tag.endswith("svg"), name
    print(f"tiny bench run: {time.monotonic() - started:.1f} s")  # noqa: T201
