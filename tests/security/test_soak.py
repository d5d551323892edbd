"""The soak run in 30 seconds, so that `make soak` never rots: it runs, reports, and the mixed load has no error.

It does not judge the figures (latency, memory growth): thirty seconds say nothing about growth. The run uses its own
database (`<test database>_soak_tiny`, kept between runs so the tiny seed is reused) and a private redis-server on a
free port, stopped by PID.
"""

import json
import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from bench.soak_mix import WEIGHTS
from bench.soak_report import VERDICT_FAILED, cpu_use
from tests.processes.stack import ROOT, Stack

pytestmark = pytest.mark.processes


@pytest.fixture
def soak_database_url() -> str:
    url = urlsplit(os.environ.get("DATABASE_URL", ""))
    if url.scheme not in {"postgres", "postgresql", "pgsql"}:
        pytest.skip("the soak needs PostgreSQL (DATABASE_URL)")
    name = url.path.lstrip("/") or "walt_portal"
    return url._replace(path=f"/{name}_soak_tiny").geturl()


@pytest.fixture
def private_redis(tmp_path):
    stack = Stack(folder=tmp_path, database_url="", base_env={})
    stack.start_redis()
    try:
        yield stack.redis_url
    finally:
        stack.stop_all()


def test_a_short_soak_runs_reports_and_has_no_error(soak_database_url, private_redis, tmp_path):
    out = tmp_path / "soak"
    env = os.environ | {"SOAK_DATABASE_URL": soak_database_url, "SOAK_REDIS_URL": private_redis}
    arguments = ["--scale", "tiny", "--duration", "20", "--warmup", "10", "--sample-every", "2", "--out", str(out)]
    completed = subprocess.run(
        [sys.executable, "-m", "bench.soak", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # 0 when every verdict passed; VERDICT_FAILED when it ran and reported but a figure is off (not judged here).
    assert completed.returncode in {0, VERDICT_FAILED}, completed.stderr[-4000:]

    results = json.loads((out / "results.json").read_text())
    verdict = results["verdict"]
    assert verdict["error_count"] == 0, verdict["errors"]
    labels = results["load"]["labels"]
    assert set(labels) == set(WEIGHTS)
    assert all(labels[kind]["samples"] > 0 for kind in WEIGHTS), {kind: labels[kind]["samples"] for kind in labels}
    assert results["afterwards"]["tickets_opened"].get("monitoring", 0) > 0, "alerts became tickets"
    assert results["afterwards"]["outbox"].get("sent", 0) > 0, "notices were delivered"
    assert len(results["samples"]) >= 5
    for health in (sample["healthz"] for sample in results["samples"]):  # an unhealthy answer says what failed
        assert (health["failing"] == []) if health["status"] == 200 else health["failing"], health
    measured = verdict["memory_growth"]
    assert any(label.startswith("gunicorn worker") for label in measured)
    assert {"celery worker", "celery beat", "load driver"} <= set(measured)
    cores = cpu_use(results["samples"], warmup=results["settings"]["warmup"])
    assert {"gunicorn worker", "postgresql backend", "celery worker pool", "whole machine"} <= set(cores), cores
    assert 0 < cores["gunicorn worker"] <= cores["whole machine"] <= results["machine"]["cpu_count"] + 0.1, cores
    assert not any(results["seed_verify_after_run"].values()), results["seed_verify_after_run"]
    report = (out / "results.md").read_text()
    assert "## Requests per kind" in report
    assert "cores busy on average" in report
    assert "customer_open_ticket" in completed.stdout
