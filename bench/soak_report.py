"""The soak's results: the verdict, a summary on standard output, results.json and results.md in the run's folder.

No Django here. Latencies are compared with the benchmark's targets (bench.report) where a kind of request has one:
those targets are medians measured one scenario at a time, and under the soak's mix every kind's p95 must be within
its target too.
"""

import json
from pathlib import Path
from typing import Any

from bench.report import LATENCY_TARGET_MS, TARGETS, markdown_table
from bench.soak_mix import BENCH_SCENARIO, WEIGHTS
from bench.soak_settings import RSS_GROWTH_LIMIT_PERCENT

VERDICT_FAILED = 3  # the run finished and reported, and something must be looked at (1 is a crash)
KIND_HEADER = ["kind", "served", "errors", "per s", "median", "p95", "p99", "benchmark target", "median / p95 vs it"]
MEMORY_HEADER = ["process", "after warm-up", "at the end", "peak", "growth", "verdict"]
# Processes whose growth is reported but not judged: the driver keeps every latency sample until the end, by design.
GROWTH_NOT_JUDGED = frozenset({"load driver"})


def _ms(value: Any) -> str:
    return "—" if value is None else f"{value:,.1f} ms"


def kinds(results: dict[str, Any]) -> list[list[str]]:
    load = results["load"]
    labels = load.get("labels", {})
    rows = []
    for kind in WEIGHTS:
        figures = labels.get(kind, {})
        served = int(figures.get("samples", 0))
        scenario = BENCH_SCENARIO.get(kind)
        target = TARGETS[scenario][0] if scenario in TARGETS else "—"
        against = "—"
        if scenario in LATENCY_TARGET_MS and "p95_ms" in figures:
            limit = LATENCY_TARGET_MS[scenario]
            median, p95 = (("within" if figures[key] < limit else "over") for key in ("median_ms", "p95_ms"))
            against = f"{median} / {p95} {limit:.0f} ms"
        rows.append(
            [
                kind,
                f"{served:,}",
                str(figures.get("errors", 0)),
                f"{served / load['duration_s']:.1f}" if load["duration_s"] else "—",
                _ms(figures.get("median_ms")),
                _ms(figures.get("p95_ms")),
                _ms(figures.get("p99_ms")),
                target,
                against,
            ]
        )
    return rows


def memory_growth(samples: list[dict[str, Any]], *, warmup: float) -> dict[str, dict[str, Any]]:
    """Per process: RSS at the first sample after the warm-up, at the last sample, the peak, and the growth between
    the first two in percent. A process seen in only one sample after the warm-up has no growth."""
    series: dict[str, list[tuple[float, float]]] = {}
    for sample in samples:
        for label, rss in sample["rss_mib"].items():
            if rss is not None and sample["at_s"] >= warmup:
                series.setdefault(label, []).append((sample["at_s"], rss))
    growth = {}
    for label, points in series.items():
        first, last = points[0][1], points[-1][1]
        growth[label] = {
            "after_warmup_mib": first,
            "final_mib": last,
            "peak_mib": max(rss for _, rss in points),
            "samples": len(points),
            "growth_percent": round(100 * (last - first) / first, 1) if len(points) > 1 and first else None,
        }
    return growth


def cpu_use(samples: list[dict[str, Any]], *, warmup: float) -> dict[str, float]:
    """Cores kept busy on average between the first sample after the warm-up and the last one: per kind of process
    (gunicorn workers, PostgreSQL backends, …, each kind summed over its processes) and for the whole machine.

    A process's CPU counts up to its last sample: one that ends between two samples loses its last seconds."""
    window = [sample for sample in samples if sample["at_s"] >= warmup and "cpu_s" in sample]
    if len(window) < 2:  # noqa: PLR2004 (a span needs two ends)
        return {}
    first, last = window[0], window[-1]
    seconds = last["at_s"] - first["at_s"]
    if seconds <= 0:
        return {}
    latest: dict[str, float] = {}
    for sample in window:
        latest |= {label: value for label, value in sample["cpu_s"].items() if value is not None}
    use: dict[str, float] = {}
    for label, value in latest.items():
        kind = label.rsplit(" ", 1)[0] if label.rsplit(" ", 1)[-1].isdigit() else label
        use[kind] = use.get(kind, 0.0) + value - (first["cpu_s"].get(label) or 0.0)
    use = {kind: round(used / seconds, 2) for kind, used in sorted(use.items(), key=lambda item: -item[1])}
    busy = last["machine_cpu_s"]["busy"] - first["machine_cpu_s"]["busy"]
    use["whole machine"] = round(busy / seconds, 2)
    return use


def over_target(results: dict[str, Any]) -> list[str]:
    """The kinds of request whose p95 is not within the latency target of their benchmark scenario."""
    labels = results["load"].get("labels", {})
    return [
        kind
        for kind, scenario in BENCH_SCENARIO.items()
        if scenario in LATENCY_TARGET_MS and labels.get(kind, {}).get("p95_ms", 0.0) >= LATENCY_TARGET_MS[scenario]
    ]


def verdict(results: dict[str, Any]) -> dict[str, Any]:
    """Errors of every kind (there must be none), the processes whose memory grew more than the limit and the kinds
    of request slower at p95 than their target."""
    afterwards = results["afterwards"]
    errors = {
        "requests": int(results["load"]["errors"]),
        "dead_notices": int(afterwards["outbox"].get("dead", 0)),
        "failed_alert_events": int(afterwards["alert_events"].get("failed", 0)),
        "celery_errors_logged": sum(results["celery_log_errors"].values()),
        "not_drained": int(results["drained_in_seconds"] is None),
        "overdue_unrecorded_deadlines": int(afterwards["overdue_unrecorded_deadlines"]),
        "seed_not_put_back": sum(results["seed_verify_after_run"].values()),
    }
    growth = memory_growth(results["samples"], warmup=results["settings"]["warmup"])
    growing = sorted(
        label
        for label, figures in growth.items()
        if label not in GROWTH_NOT_JUDGED
        and figures["growth_percent"] is not None
        and figures["growth_percent"] > RSS_GROWTH_LIMIT_PERCENT
    )
    slow = over_target(results)
    return {
        "errors": errors,
        "error_count": sum(errors.values()),
        "memory_growth": growth,
        "growth_limit_percent": RSS_GROWTH_LIMIT_PERCENT,
        "growing": growing,
        "over_target": slow,
        "passed": not sum(errors.values()) and not growing and not slow,
    }


def memory_rows(results: dict[str, Any]) -> list[list[str]]:
    limit = results["verdict"]["growth_limit_percent"]
    rows = []
    for label, figures in sorted(results["verdict"]["memory_growth"].items()):
        growth = figures["growth_percent"]
        if label in GROWTH_NOT_JUDGED:
            judged = "not judged (keeps every sample)"
        else:
            judged = "—" if growth is None else ("met" if growth <= limit else "grew")
        rows.append(
            [
                label,
                f"{figures['after_warmup_mib']} MiB",
                f"{figures['final_mib']} MiB",
                f"{figures['peak_mib']} MiB",
                "—" if growth is None else f"{growth:+.1f} %",
                judged,
            ]
        )
    return rows


def _health(results: dict[str, Any]) -> dict[str, Any]:
    checks = [sample["healthz"] for sample in results["samples"]]
    lags = [check["sweeper_lag_s"] for check in checks if check.get("sweeper_lag_s") is not None]
    return {
        "samples": len(checks),
        "healthy": sum(check.get("status") == 200 for check in checks),  # noqa: PLR2004
        "max_sweeper_lag_s": max(lags, default=None),
        "unhealthy": [
            f"{check.get('status')} at {sample['at_s']} s ({', '.join(check.get('failing') or ['?'])})"
            for sample, check in zip(results["samples"], checks, strict=True)
            if check.get("status") != 200  # noqa: PLR2004
        ],
    }


def _cpu(results: dict[str, Any]) -> dict[str, float]:
    return cpu_use(results["samples"], warmup=results["settings"]["warmup"])


def _facts(results: dict[str, Any]) -> list[str]:
    settings, load, afterwards, judged = results["settings"], results["load"], results["afterwards"], results["verdict"]
    lateness = afterwards["breach_lateness"]
    health = _health(results)
    return [
        f"**{results['started_at']}**, scale `{settings['scale']}`, {settings['clients']} clients "
        f"({settings['think_seconds']} s between a client's requests), {settings['warmup']:.0f} s warm-up + "
        f"{load['duration_s']:.0f} s measured; gunicorn {settings['gunicorn_workers']} workers; {settings['celery']}.",
        f"Requests: {load['requests']:,} measured ({load['throughput_per_s']}/s), errors {load['errors']}; "
        f"status codes {load['statuses']}.",
        f"Tickets opened {afterwards['tickets_opened']}; SLA records {afterwards['sla_records']}; breach lateness "
        f"median {_ms(lateness.get('median_ms'))}, max {_ms(lateness.get('max_ms'))}; notices {afterwards['outbox']}; "
        f"alert events {afterwards['alert_events']}; everything delivered {results['drained_in_seconds']} s after "
        f"the load.",
        f"/healthz: {health['healthy']} of {health['samples']} samples 200"
        + (f" (the others: {'; '.join(health['unhealthy'])})" if health["unhealthy"] else "")
        + f", sweeper lag at most {health['max_sweeper_lag_s']} s.",
        f"CPU, cores busy on average after the warm-up (of {results['machine'].get('cpu_count')}): "
        + (", ".join(f"{kind} {cores}" for kind, cores in _cpu(results).items()) or "not sampled")
        + ".",
        f"Errors: {judged['errors']} ({judged['error_count']} in all). Memory growth after the warm-up above "
        f"{judged['growth_limit_percent']:.0f} %: {', '.join(judged['growing']) or 'none'}. "
        f"p95 over its benchmark target: {', '.join(judged['over_target']) or 'none'}. "
        f"Verdict: {'passed' if judged['passed'] else 'FAILED'}.",
    ]


def markdown(results: dict[str, Any]) -> str:
    parts = [
        "# Soak run",
        "\n\n".join(_facts(results)),
        "## Requests per kind",
        markdown_table(KIND_HEADER, kinds(results)),
        "## Memory (RSS) of every process",
        markdown_table(MEMORY_HEADER, memory_rows(results)),
        f"Machine: {results['machine']}; versions: {results['versions']}; code: {results['code']}.",
    ]
    return "\n\n".join(parts) + "\n"


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def summary(results: dict[str, Any]) -> str:
    return "\n\n".join(
        [
            _text_table(KIND_HEADER, kinds(results)),
            _text_table(MEMORY_HEADER, memory_rows(results)),
            "\n".join(fact.replace("**", "") for fact in _facts(results)),
        ]
    )


def write(results: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "results.json", out_dir / "results.md"
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    md_path.write_text(markdown(results))
    return json_path, md_path
