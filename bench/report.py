"""The results: a table on standard output, results.json and results.md in the run's folder."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import svg

WORKER_RSS_TARGET_MIB = 150.0
PAGE_QUERIES = 8
Check = Callable[[dict[str, Any]], bool]

# Median latency targets in milliseconds (docs/performance.md says where each comes from).
LATENCY_TARGET_MS = {
    "ticket_list_api": 30.0,
    "ticket_detail_api": 30.0,
    "ticket_list_html": 30.0,
    "ticket_detail_html": 30.0,
    "queue_html": 30.0,
    "queue_api": 30.0,
    "queue_filters_api": 30.0,
    "queue_refresh_unchanged": 10.0,
    "alert_intake_5mib_refused": 50.0,
    "sla_sweep_idle": 5.0,
}
THROUGHPUT_TARGET = {"open_ticket_api": 250.0, "alert_intake": 2000.0, "alert_processing": 500.0}
BREACH_P99_TARGET_S = 10.0
SWEEP_10K_TARGET_S = 10.0


def _median(result: dict[str, Any]) -> float:
    return float(result.get("latency", {}).get("median_ms", 1e9))


def _page_ok(name: str) -> Check:
    def check(result: dict[str, Any]) -> bool:
        detail = result.get("query_detail", {})
        most = max(result.get("queries_per_request", 99), detail.get("max_queries", 0))
        return _median(result) < LATENCY_TARGET_MS[name] and most <= PAGE_QUERIES and bool(detail.get("constant", True))

    return check


def _filters_ok(result: dict[str, Any]) -> bool:
    filters = result.get("query_detail", {}).get("filters", {})
    labels = result.get("labels", {})
    return bool(labels) and all(
        figures.get("median_ms", 1e9) < LATENCY_TARGET_MS["queue_filters_api"]
        and filters.get(label, {}).get("queries", 99) <= PAGE_QUERIES
        and filters.get(label, {}).get("constant", False)
        for label, figures in labels.items()
    )


def _per_s(result: dict[str, Any]) -> float:
    return float(result.get("units_per_s", result.get("alerts_per_s", result.get("throughput_per_s")) or 0.0))


TARGETS: dict[str, tuple[str, Check]] = {
    **{
        name: (f"median < {LATENCY_TARGET_MS[name]:.0f} ms, ≤ {PAGE_QUERIES} queries, constant", _page_ok(name))
        for name in ("ticket_list_api", "ticket_detail_api", "ticket_list_html", "ticket_detail_html")
    },
    "queue_html": ("median < 30 ms, ≤ 8 queries, constant", _page_ok("queue_html")),
    "queue_api": ("median < 30 ms, ≤ 8 queries, constant", _page_ok("queue_api")),
    "queue_filters_api": ("each filter: median < 30 ms, ≤ 8 queries, constant", _filters_ok),
    "queue_refresh_unchanged": ("median < 10 ms", lambda result: _median(result) < 10),  # noqa: PLR2004
    "open_ticket_api": ("≥ 250 tickets/s", lambda result: _per_s(result) >= THROUGHPUT_TARGET["open_ticket_api"]),
    "alert_intake": ("≥ 2,000 alerts/s", lambda result: _per_s(result) >= THROUGHPUT_TARGET["alert_intake"]),
    "alert_intake_5mib_refused": (
        "413, p95 < 50 ms",
        lambda result: result["ok"] > 0 and result["latency"].get("p95_ms", 1e9) < 50,  # noqa: PLR2004
    ),
    "sla_sweep_idle": ("median < 5 ms", lambda result: _median(result) < 5),  # noqa: PLR2004
    "sla_sweep_10k_due": (
        "all due breaches recorded ≤ 10 s",
        lambda result: result["seconds"] <= SWEEP_10K_TARGET_S and result["verified"],
    ),
    "alert_processing": (
        "≥ 500 alerts/s, no duplicate open ticket",
        lambda result: _per_s(result) >= THROUGHPUT_TARGET["alert_processing"] and result["verified"],
    ),
    "deadline_to_breach": (
        "p99 ≤ 10 s from deadline to record",
        lambda result: result["latency"].get("p99_ms", 1e12) <= BREACH_P99_TARGET_S * 1000 and result["verified"],
    ),
}


def _ms(value: Any) -> str:
    return "—" if value is None else f"{value:,.1f} ms"


def _seconds(value_ms: Any) -> str:
    return "—" if value_ms is None else f"{value_ms / 1000:,.2f} s"


def _verdict(name: str, result: dict[str, Any]) -> str:
    verdict = "met" if TARGETS[name][1](result) else "missed"
    if "verified" in result and not result["verified"]:
        return "NOT VERIFIED"
    return verdict


def _row(name: str, result: dict[str, Any]) -> list[str]:
    target = TARGETS[name][0]
    if name == "sla_sweep_10k_due":
        return [
            name,
            f"{result['breaches_per_s']:,.0f} breaches/s",
            f"{result['seconds']:.2f} s for {result['due_clocks']:,}",
            "",
            "",
            f"{result['queries_per_breach']} per breach",
            f"{result['cpu']['per_breach']['total_ms']:.2f} ms/breach",
            target,
            _verdict(name, result),
        ]
    if name == "alert_processing":
        return [
            name,
            f"{result['alerts_per_s'] or 0:,.0f} alerts/s",
            f"{result['seconds']} s for {result['alerts']:,}",
            "",
            "",
            "",
            f"{result['worker_cpu_ms_per_alert']:.2f} ms/alert",
            target,
            _verdict(name, result),
        ]
    latency = result["latency"]
    if name == "deadline_to_breach":
        cells = [_seconds(latency.get(key)) for key in ("median_ms", "p95_ms", "p99_ms")]
        return [name, f"max {_seconds(latency.get('max_ms'))}", *cells, "", "", target, _verdict(name, result)]
    throughput = ""
    if "units_per_s" in result:
        throughput = f"{result['units_per_s']:,.0f} alerts/s ({result['throughput_per_s']:,.1f} deliveries/s)"
    elif "throughput_per_s" in result:
        throughput = f"{result['throughput_per_s']:,.1f}/s"
    queries = result.get("queries_per_request", result.get("queries_per_sweep"))
    cpu = result.get("cpu_per_request", result.get("cpu_per_sweep", {})).get("total_ms")
    return [
        name,
        throughput,
        _ms(latency.get("median_ms")),
        _ms(latency.get("p95_ms")),
        _ms(latency.get("p99_ms")),
        "" if queries is None else str(queries),
        "" if cpu is None else f"{cpu:.1f} ms",
        target,
        _verdict(name, result),
    ]


def rows(results: dict[str, Any]) -> list[list[str]]:
    """One row per scenario: name, throughput, median, p95, p99, queries, CPU, target, verdict."""
    table = []
    for name, result in results["scenarios"].items():
        if "error" in result:
            table.append([name, "error", "", "", "", "", "", TARGETS.get(name, ("", None))[0], result["error"][:60]])
            continue
        table.append(_row(name, result))
    return table


def filter_rows(result: dict[str, Any]) -> list[list[str]]:
    """The queue's filters one by one: latency over the API, queries over the API and on the page."""
    api = result.get("query_detail", {}).get("filters", {})
    pages = result.get("html_filters", {})
    table = []
    for label, figures in result.get("labels", {}).items():
        queries = api.get(label, {})
        ok = (
            figures.get("median_ms", 1e9) < LATENCY_TARGET_MS["queue_filters_api"]
            and queries.get("queries", 99) <= PAGE_QUERIES
            and queries.get("constant", False)
        )
        table.append(
            [
                label,
                _ms(figures.get("median_ms")),
                _ms(figures.get("p95_ms")),
                _ms(figures.get("p99_ms")),
                str(figures.get("samples", 0)),
                f"{queries.get('queries', '?')}{'' if queries.get('constant') else ' (grows)'}",
                str(pages.get(label, {}).get("queries", "")),
                "met" if ok else "missed",
            ]
        )
    return table


HEADER = ["scenario", "throughput", "median", "p95", "p99", "queries", "CPU", "target", "verdict"]


def text_table(table: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [HEADER, *table]) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [HEADER, *table]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(header: list[str], table: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in table]
    return "\n".join(lines)


def _process_memory(label: str, when: str, figures: dict[str, Any]) -> list[str]:
    return [label, when, str(figures.get("rss_mib")), str(figures.get("peak_rss_mib")), ""]


def memory_rows(results: dict[str, Any]) -> list[list[str]]:
    table = []
    for name, result in results["scenarios"].items():
        workers = result.get("workers_after", {}).get("workers", {})
        for pid, figures in workers.items():
            peak = figures.get("peak_rss_mib")
            verdict = "" if peak is None else ("met" if peak < WORKER_RSS_TARGET_MIB else "missed")
            table.append([f"gunicorn worker {pid}", f"after {name}", str(figures.get("rss_mib")), str(peak), verdict])
    for name, result in results["scenarios"].items():
        if driver := result.get("driver_memory"):
            table.append(_process_memory("load driver", name, driver))
    processes = {
        "alert_processing": results["scenarios"].get("alert_processing", {}).get("worker_memory"),
        "deadline_to_breach": results["scenarios"].get("deadline_to_breach", {}).get("processes_memory", {}),
    }
    if worker := processes["alert_processing"]:
        table.append(_process_memory("Celery worker (monitoring)", "alert_processing", worker["main"]))
        table += [
            _process_memory(f"  its pool process {pid}", "alert_processing", figures)
            for pid, figures in worker["children"].items()
        ]
    for role, figures in (processes["deadline_to_breach"] or {}).items():
        table.append(_process_memory(f"Celery {role}", "deadline_to_breach", figures["main"]))
        table += [
            _process_memory(f"  its pool process {pid}", "deadline_to_breach", child)
            for pid, child in figures["children"].items()
        ]
    bench = results.get("bench_process_memory", {})
    table.append(_process_memory("bench process", "end of run", bench))
    return table


def _gunicorn(results: dict[str, Any]) -> str:
    found = results.get("server", {}).get("gunicorn", {})
    workers = results["settings"]["workers"]
    if not found:
        return f"{workers} workers"
    return (
        f"{workers} {found.get('worker_class', '?')} workers × {found.get('threads', '?')} threads, keep-alive "
        f"{found.get('keepalive', '?')} s (config {found.get('config', 'none')})"
    )


FILTER_HEADER = ["filter", "median", "p95", "p99", "requests", "API queries", "page queries", "target"]


def markdown(results: dict[str, Any], charts: list[str] | None = None) -> str:
    machine, versions, seed = results["machine"], results["versions"], results["seed"]
    parts = [
        f"# Benchmark {results['started_at']} — scale {results['scale']['name']}",
        "",
        f"- scale: {results['scale']['organizations']:,} organizations, {results['scale']['tickets']:,} tickets "
        f"({results['scale']['open_tickets']:,} open); seed T0 {seed.get('t0')}, "
        + ("reused" if seed.get("reused") else f"seeded in {seed.get('seconds')} s"),
        f"- machine: {machine.get('cpu_count')} CPUs ({machine.get('cpu_model', '?')}), "
        f"{machine.get('memory_mib', '?')} MiB; load average {machine.get('load_average')} before, "
        f"{results.get('load_average_after')} after (other work on the machine makes figures noisy)",
        "- versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()),
        f"- code: commit {results.get('code', {}).get('commit', '?')[:12]} with "
        f"{results.get('code', {}).get('uncommitted_files', '?')} uncommitted files",
        f"- settings: gunicorn {_gunicorn(results)}; {results['settings']['clients']} "
        f"clients write, {results['settings']['read_clients']} read; "
        f"{results['settings']['duration']} s measured after {results['settings']['warmup']} s warm-up",
        f"- run took {results.get('seconds')} s",
        "",
        "## Results",
        "",
        markdown_table(HEADER, rows(results)),
        "",
    ]
    if (filters := results["scenarios"].get("queue_filters_api", {})) and "labels" in filters:
        parts += ["## The queue's filters (API latency; queries over the API and on the page)", ""]
        parts += [markdown_table(FILTER_HEADER, filter_rows(filters)), ""]
    parts += [
        "## Memory (MiB)",
        "",
        markdown_table(
            ["process", "when", "RSS", "peak RSS", f"< {WORKER_RSS_TARGET_MIB:.0f} MiB"], memory_rows(results)
        ),
        "",
    ]
    parts += _worker_sections(results)
    parts += _query_sections(results)
    if charts:
        parts += ["## Charts", "", *(f"![{name}]({name})" for name in charts), ""]
    if problems := {name: count for name, count in seed.get("verify", {}).items() if count}:
        parts += ["## Seed problems", "", *(f"- {name}: {count}" for name, count in problems.items()), ""]
    return "\n".join(parts)


def _worker_sections(results: dict[str, Any]) -> list[str]:
    parts: list[str] = []
    processing = results["scenarios"].get("alert_processing", {})
    if "checks" in processing:
        parts += ["## alert_processing", ""]
        parts += [
            f"- {processing['deliveries']} deliveries of {processing['alerts_per_delivery']} alerts from "
            f"{processing['sources']} sources ({processing['distinct_alerts_per_source']} distinct alerts each): "
            f"{processing['alerts']:,} alerts in {processing['seconds']} s of processing "
            f"({processing['wall_seconds_from_worker_ready']} s from the worker being ready until the bench saw "
            "the last event processed)",
            f"- outcome of each alert: {processing['actions']}; tickets opened: {processing['tickets_opened']}",
            f"- worker CPU: {processing['worker_cpu_s']} s ({processing['worker_cpu_ms_per_alert']} ms per alert)",
        ]
        parts += [f"- {name}: {'yes' if ok else 'NO'}" for name, ok in processing["checks"].items()]
        parts += [""]
    breach = results["scenarios"].get("deadline_to_breach", {})
    if "checks" in breach:
        latency = breach["latency"]
        parts += ["## deadline_to_breach", ""]
        parts += [
            f"- {breach['clocks']} deadlines 3–10 s ahead, recorded by the sweep every {breach['sweep_interval_s']} s "
            f"(beat's default schedule): {breach['recorded']} recorded; from deadline to record p50 "
            f"{_seconds(latency.get('median_ms'))}, p99 {_seconds(latency.get('p99_ms'))}, "
            f"max {_seconds(latency.get('max_ms'))}",
        ]
        parts += [f"- {name}: {'yes' if ok else 'NO'}" for name, ok in breach["checks"].items()]
        parts += [""]
    return parts


def _cpu_section(results: dict[str, Any]) -> list[str]:
    lines = []
    for name, result in results["scenarios"].items():
        if cpu := result.get("cpu_per_request"):
            lines.append(
                f"- {name}: {cpu['web_ms']} ms in gunicorn + {cpu['database_ms']} ms in PostgreSQL per request; "
                f"at most ~{result['cpu_bound_capacity_per_s']}/s if those two had every CPU of the machine"
            )
        elif cpu := result.get("cpu_per_sweep"):
            lines.append(f"- {name}: {cpu['bench_process_ms']} ms in Python + {cpu['database_ms']} ms in PostgreSQL")
        elif cpu := result.get("cpu"):
            lines.append(
                f"- {name}: {cpu['bench_process_s']} s in Python + {cpu['database_s']} s in PostgreSQL "
                f"({cpu['per_breach']['total_ms']} ms per breach)"
            )
    if not lines:
        return []
    return ["## CPU time (largely independent of the machine's other load)", "", *lines, ""]


def _query_sections(results: dict[str, Any]) -> list[str]:
    parts: list[str] = _cpu_section(results)
    for name, result in results["scenarios"].items():
        requests = result.get("query_detail", {}).get("requests")
        if not requests:
            continue
        parts += [f"## SQL queries: {name}", ""]
        parts += [f"- {label}: {call['queries']} queries (HTTP {call['status']})" for label, call in requests.items()]
        first = next(iter(requests.values()))
        parts += ["", "```", *first["sql"], "```", ""]
    parts += _plan_sections(results)
    sweep = results["scenarios"].get("sla_sweep_10k_due", {})
    if "checks" in sweep:
        parts += ["## sla_sweep_10k_due checks", ""]
        parts += [f"- {name}: {'yes' if ok else 'NO'}" for name, ok in sweep["checks"].items()]
        parts += [
            f"- rows created: {sweep['created']}",
            f"- Celery wake-ups published: {sweep['celery_wakeups_published']}",
        ]
        parts += [""]
    return parts


def _plan_sections(results: dict[str, Any]) -> list[str]:
    """EXPLAIN ANALYZE of the sweep's select and of the list's ticket queries (the ones that grow with the data)."""
    parts: list[str] = []
    idle = results["scenarios"].get("sla_sweep_idle", {})
    for plan in idle.get("plans", []):
        parts += ["## Plan: the sweep's select with nothing due", "", "```", *plan["plan"], "```", ""]
    listing = results["scenarios"].get("ticket_list_api", {}).get("query_detail", {})
    for plan in listing.get("plans", []):
        if "tickets_ticket" in plan["sql"]:
            parts += ["## Plan: " + plan["sql"][:90] + "…", "", "```", *plan["plan"], "```", ""]
    return parts


def write(results: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "results.json", out_dir / "results.md"
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    written = []
    for name, result in results["scenarios"].items():
        if "error" in result:
            continue
        if (drawing := chart(name, result)) is not None:
            (out_dir / f"{name}.svg").write_text(drawing)
            written.append(f"{name}.svg")
    md_path.write_text(markdown(results, written))
    return json_path, md_path


def _percentile_bars(latency: dict[str, Any], *, scale: float = 1.0) -> list[tuple[str, float]]:
    keys = (("median", "median_ms"), ("p95", "p95_ms"), ("p99", "p99_ms"), ("max", "max_ms"))
    return [(label, float(latency[key]) / scale) for label, key in keys if key in latency]


def chart(name: str, result: dict[str, Any]) -> str | None:
    """The scenario's SVG chart: its latency percentiles or its throughput, against its target."""
    if name == "queue_filters_api" and result.get("labels"):
        bars = [(label, float(figures.get("median_ms", 0.0))) for label, figures in result["labels"].items()]
        goal = svg.Target(LATENCY_TARGET_MS[name], f"target {LATENCY_TARGET_MS[name]:.0f} ms")
        return svg.bar_chart(title=f"{name}: median latency per filter", bars=bars, unit="ms", target=goal)
    if name in THROUGHPUT_TARGET:
        unit = "tickets per second" if name == "open_ticket_api" else "alerts per second"
        goal = svg.Target(THROUGHPUT_TARGET[name], f"target {THROUGHPUT_TARGET[name]:,.0f}/s", higher_is_better=True)
        note = f"CPU ceiling ~{result['cpu_bound_capacity_per_s']}/s" if "cpu_bound_capacity_per_s" in result else ""
        return svg.bar_chart(title=name, bars=[("measured", _per_s(result))], unit=unit, target=goal, note=note)
    if name == "sla_sweep_10k_due":
        goal = svg.Target(SWEEP_10K_TARGET_S, f"target {SWEEP_10K_TARGET_S:.0f} s")
        bars = [(f"{result['due_clocks']:,} breaches", float(result["seconds"]))]
        return svg.bar_chart(title=name, bars=bars, unit="seconds for one sweep", target=goal)
    if name == "deadline_to_breach" and result.get("latency", {}).get("samples"):
        goal = svg.Target(BREACH_P99_TARGET_S, f"p99 target {BREACH_P99_TARGET_S:.0f} s", judged=("p99",))
        bars = _percentile_bars(result["latency"], scale=1000)
        return svg.bar_chart(title=f"{name}: from due_at to recorded_at", bars=bars, unit="seconds", target=goal)
    if result.get("latency", {}).get("samples"):
        target = LATENCY_TARGET_MS.get(name)
        judged = "p95" if name == "alert_intake_5mib_refused" else "median"
        line = svg.Target(target, f"target {target:.0f} ms", judged=(judged,)) if target is not None else None
        note = f"the target is on the {judged}" if line else ""
        return svg.bar_chart(
            title=f"{name}: latency", bars=_percentile_bars(result["latency"]), unit="ms", target=line, note=note
        )
    return None
