"""The soak's verdict: a run with no error still fails when a kind of request is slower at p95 than its target."""

from typing import Any

from bench.report import LATENCY_TARGET_MS
from bench.soak_mix import BENCH_SCENARIO, WEIGHTS
from bench.soak_report import markdown, verdict


def _results(p95_ms: dict[str, float]) -> dict[str, Any]:
    """A finished run with no error of any kind and flat memory; `p95_ms` per kind of request."""
    labels = {
        kind: {"samples": 100, "errors": 0, "median_ms": 5.0, "p95_ms": p95_ms.get(kind, 10.0)} for kind in WEIGHTS
    }
    samples = [
        {"at_s": at, "rss_mib": {"gunicorn worker 1": 100.0}, "healthz": {"status": 200, "failing": []}}
        for at in (60.0, 65.0)
    ]
    return {
        "started_at": "2026-12-07T00:00:00+00:00",
        "settings": {
            "scale": "tiny",
            "clients": 6,
            "think_seconds": 0.1,
            "warmup": 60.0,
            "gunicorn_workers": 4,
            "celery": "one worker",
        },
        "load": {
            "labels": labels,
            "errors": 0,
            "requests": 800,
            "duration_s": 10.0,
            "throughput_per_s": 80.0,
            "statuses": {"200": 800},
        },
        "afterwards": {
            "outbox": {"sent": 1},
            "alert_events": {"processed": 1},
            "overdue_unrecorded_deadlines": 0,
            "tickets_opened": {"api": 1},
            "sla_records": {},
            "breach_lateness": {},
        },
        "celery_log_errors": {},
        "drained_in_seconds": 0.0,
        "seed_verify_after_run": {},
        "samples": samples,
        "machine": {"cpu_count": 2},
        "versions": {},
        "code": {},
    }


def test_a_run_within_every_target_passes():
    judged = verdict(_results({}))

    assert judged["over_target"] == []
    assert judged["passed"]


def test_a_kind_slower_at_p95_than_its_target_fails_the_run():
    limit = LATENCY_TARGET_MS[BENCH_SCENARIO["engineer_queue_html"]]
    # engineer_reply has no benchmark scenario: its p95 is reported, not judged.
    results = _results({"engineer_queue_html": limit, "engineer_reply": 10 * limit})

    results["verdict"] = judged = verdict(results)

    assert judged["over_target"] == ["engineer_queue_html"]
    assert judged["error_count"] == 0
    assert not judged["passed"]
    assert "p95 over its benchmark target: engineer_queue_html. Verdict: FAILED." in markdown(results)


def test_the_load_driver_may_grow_its_samples_but_a_server_may_not():
    results = _results({})
    results["samples"] = [
        {"at_s": at, "rss_mib": {"gunicorn worker 1": worker, "load driver": driver}, "healthz": {"status": 200}}
        for at, worker, driver in ((60.0, 100.0, 25.0), (65.0, 111.0, 30.0))
    ]

    results["verdict"] = judged = verdict(results)

    assert judged["growing"] == ["gunicorn worker 1"]
    assert judged["memory_growth"]["load driver"]["growth_percent"] == 20.0  # reported all the same
    assert not judged["passed"]
    assert "| load driver | 25.0 MiB | 30.0 MiB | 30.0 MiB | +20.0 % | not judged (keeps every sample) |" in markdown(
        results
    )
