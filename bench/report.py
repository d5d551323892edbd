"""The results: a table on standard output, results.json and results.md in the run's folder."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

WORKER_RSS_TARGET_MIB = 150.0
Check = Callable[[dict[str, Any]], bool]


def _http_latency_ok(result: dict[str, Any]) -> bool:
    return bool(result["latency"].get("median_ms", 1e9) < 30 and result.get("queries_per_request", 99) <= 8)  # noqa: PLR2004


TARGETS: dict[str, tuple[str, Check]] = {
    "open_ticket_api": ("≥ 250 tickets/s", lambda result: result["throughput_per_s"] >= 250),  # noqa: PLR2004
    "ticket_list_api": ("median < 30 ms, ≤ 8 queries", _http_latency_ok),
    "ticket_detail_api": ("median < 30 ms, ≤ 8 queries", _http_latency_ok),
    "sla_sweep_idle": ("median < 5 ms", lambda result: result["latency"]["median_ms"] < 5),  # noqa: PLR2004
    "sla_sweep_10k_due": (
        "all due breaches recorded ≤ 10 s",
        lambda result: result["seconds"] <= 10 and result["verified"],  # noqa: PLR2004
    ),
}


def _ms(value: Any) -> str:
    return "—" if value is None else f"{value:,.1f} ms"


def rows(results: dict[str, Any]) -> list[list[str]]:
    """One row per scenario: name, throughput, median, p95, p99, queries, target, verdict."""
    table = []
    for name, result in results["scenarios"].items():
        if "error" in result:
            table.append([name, "error", "", "", "", "", "", TARGETS.get(name, ("", None))[0], result["error"][:60]])
            continue
        target, check = TARGETS[name]
        verdict = "met" if check(result) else "missed"
        if name == "sla_sweep_10k_due":
            table.append(
                [
                    name,
                    f"{result['breaches_per_s']:,.0f} breaches/s",
                    f"{result['seconds']:.2f} s for {result['due_clocks']:,}",
                    "",
                    "",
                    f"{result['queries_per_breach']} per breach",
                    f"{result['cpu']['per_breach']['total_ms']:.2f} ms/breach",
                    target,
                    verdict if result["verified"] else "NOT VERIFIED",
                ]
            )
            continue
        latency = result["latency"]
        throughput = f"{result['throughput_per_s']:,.1f}/s" if "throughput_per_s" in result else ""
        queries = result.get("queries_per_request", result.get("queries_per_sweep"))
        cpu = result.get("cpu_per_request", result.get("cpu_per_sweep", {})).get("total_ms")
        table.append(
            [
                name,
                throughput,
                _ms(latency.get("median_ms")),
                _ms(latency.get("p95_ms")),
                _ms(latency.get("p99_ms")),
                "" if queries is None else str(queries),
                "" if cpu is None else f"{cpu:.1f} ms",
                target,
                verdict,
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
            table.append(["load driver", name, str(driver.get("rss_mib")), str(driver.get("peak_rss_mib")), ""])
    bench = results.get("bench_process_memory", {})
    table.append(["bench process", "end of run", str(bench.get("rss_mib")), str(bench.get("peak_rss_mib")), ""])
    return table


def markdown(results: dict[str, Any]) -> str:
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
        f"- settings: gunicorn {results['settings']['workers']} sync workers; {results['settings']['clients']} "
        f"clients open tickets, {results['settings']['read_clients']} read; "
        f"{results['settings']['duration']} s measured after {results['settings']['warmup']} s warm-up",
        f"- run took {results.get('seconds')} s",
        "",
        "## Results",
        "",
        markdown_table(HEADER, rows(results)),
        "",
        "## Memory (MiB)",
        "",
        markdown_table(
            ["process", "when", "RSS", "peak RSS", f"< {WORKER_RSS_TARGET_MIB:.0f} MiB"], memory_rows(results)
        ),
        "",
    ]
    parts += _query_sections(results)
    if problems := {name: count for name, count in seed.get("verify", {}).items() if count}:
        parts += ["## Seed problems", "", *(f"- {name}: {count}" for name, count in problems.items()), ""]
    return "\n".join(parts)


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
    for name in ("ticket_list_api", "ticket_detail_api", "open_ticket_api"):
        result = results["scenarios"].get(name, {})
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
    md_path.write_text(markdown(results))
    return json_path, md_path
