"""The side-by-side results: ratios ours/theirs, the table, results.md and one SVG chart per comparison.

Pure formatting (no Django, no peer installed), tested with the portal's suite. A ratio below 1 for a latency, a query
count or a CPU time means the portal needs less than the peer; above 1 for a throughput means it serves more.
"""

import json
from pathlib import Path
from typing import Any

from bench import svg

SIDES = ("ours", "theirs")
COMPARISONS = {
    "open_ticket": "open a ticket through the API",
    "staff_list": "staff ticket list data (first page of open tickets)",
    "ticket_detail": "ticket detail through the API",
}
HEADER = ["comparison", "side", "endpoint", "throughput", "median", "p95", "queries", "CPU / request"]
RATIO_HEADER = ["comparison", "median", "p95", "throughput", "queries", "CPU / request"]


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """ours / theirs, or None when either is missing or theirs is 0."""
    if ours is None or theirs is None or theirs == 0:
        return None
    return ours / theirs


def format_ratio(value: float | None) -> str:
    """'0.0021×', '0.35×', '12×', '1,530×'; '—' when there is no ratio."""
    if value is None:
        return "—"
    if value >= 100:  # noqa: PLR2004
        return f"{value:,.0f}×"
    if value >= 10:  # noqa: PLR2004
        return f"{value:.1f}×"
    if value >= 0.01:  # noqa: PLR2004
        return f"{value:.2f}×"
    return f"{value:.2g}×"


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:,.2f} s" if value >= 10_000 else f"{value:,.1f} ms"  # noqa: PLR2004


def ratios(side_by_side: dict[str, Any]) -> dict[str, float | None]:
    ours, theirs = side_by_side["ours"], side_by_side["theirs"]
    return {
        "median": ratio(ours["latency"].get("median_ms"), theirs["latency"].get("median_ms")),
        "p95": ratio(ours["latency"].get("p95_ms"), theirs["latency"].get("p95_ms")),
        "throughput": ratio(ours.get("throughput_per_s"), theirs.get("throughput_per_s")),
        "queries": ratio(ours.get("queries_per_request"), theirs.get("queries_per_request")),
        "cpu": ratio(ours.get("cpu_ms_per_request"), theirs.get("cpu_ms_per_request")),
    }


def side_rows(comparisons: dict[str, Any]) -> list[list[str]]:
    table = []
    for name, side_by_side in comparisons.items():
        for side in SIDES:
            figures = side_by_side[side]
            cpu = figures.get("cpu_ms_per_request")
            table.append(
                [
                    name,
                    side,
                    figures["endpoint"],
                    f"{figures.get('throughput_per_s', 0):,.2f}/s",
                    _ms(figures["latency"].get("median_ms")),
                    _ms(figures["latency"].get("p95_ms")),
                    str(figures.get("queries_per_request", "?")),
                    "—" if cpu is None else f"{cpu:,.1f} ms",
                ]
            )
    return table


def ratio_rows(comparisons: dict[str, Any]) -> list[list[str]]:
    table = []
    for name, side_by_side in comparisons.items():
        found = ratios(side_by_side)
        table.append([name, *(format_ratio(found[key]) for key in ("median", "p95", "throughput", "queries", "cpu"))])
    return table


def _table(header: list[str], table: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in table]
    return "\n".join(lines)


def text_table(header: list[str], table: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [header, *table]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _served(settings: dict[str, str]) -> str:
    if not settings:
        return "with gunicorn's defaults"
    return (
        f"{settings.get('worker_class', '?')} × {settings.get('threads', '?')} threads, keep-alive "
        f"{settings.get('keepalive', '?')} s"
    )


def markdown(results: dict[str, Any], charts: list[str]) -> str:
    comparisons = results["comparisons"]
    peer, ours = results["peer"], results["ours"]
    parts = [
        f"# Side by side with django-helpdesk {peer.get('version', '?')} — {results['started_at']}",
        "",
        f"- ours: scale {ours['scale']} ({ours['tickets']:,} tickets, {ours['open_tickets']:,} open, "
        f"{ours['organizations']:,} organizations); theirs: {peer['tickets']:,} tickets in {peer['queues']} queues, "
        f"{peer['open_tickets']:,} open",
        f"- {results['settings']['rounds']} rounds of {results['settings']['round_seconds']} s per side, "
        "alternating (ours, theirs, ours, theirs…) so that the machine's other load hits both alike; "
        f"gunicorn with {results['settings']['workers']} workers on each side, both "
        f"{_served(results['settings'].get('gunicorn', {}))}; {results['settings']['clients']} clients open tickets, "
        f"{results['settings']['read_clients']} read",
        f"- machine: {results['machine'].get('cpu_count')} CPUs; load average {results['machine'].get('load_average')}"
        f" before, {results.get('load_average_after')} after",
        "- versions: " + ", ".join(f"{name} {version}" for name, version in results["versions"].items()),
        f"- run took {results.get('seconds')} s",
        "",
        "## Ratios ours / theirs",
        "",
        "Below 1: the portal is faster, or needs fewer queries or less CPU; above 1 for throughput: it serves more.",
        "",
        _table(RATIO_HEADER, ratio_rows(comparisons)),
        "",
        "## Each side",
        "",
        _table(HEADER, side_rows(comparisons)),
        "",
    ]
    for name, side_by_side in comparisons.items():
        parts += [f"## What `{name}` compares", "", f"{COMPARISONS.get(name, name)}:", ""]
        parts += [f"- {side}: `{side_by_side[side]['endpoint']}`" for side in SIDES]
        if sql := side_by_side["theirs"].get("sql"):
            parts += ["", "Their first statements:", "", "```", *sql, "```"]
        parts += [""]
    if charts:
        parts += ["## Charts", "", *(f"![{chart}]({chart})" for chart in charts), ""]
    return "\n".join(parts)


def chart(name: str, side_by_side: dict[str, Any]) -> str:
    bars = []
    for side in SIDES:
        latency = side_by_side[side]["latency"]
        bars += [
            (f"{side}: median", float(latency.get("median_ms", 0.0))),
            (f"{side}: p95", float(latency.get("p95_ms", 0.0))),
        ]
    found = ratios(side_by_side)
    return svg.bar_chart(
        title=f"{name}: ours vs django-helpdesk",
        bars=bars,
        unit="ms",
        note=f"median ours/theirs {format_ratio(found['median'])}, throughput {format_ratio(found['throughput'])}",
        logarithmic=True,
    )


def write(results: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = []
    for name, side_by_side in results["comparisons"].items():
        (out_dir / f"peer_{name}.svg").write_text(chart(name, side_by_side))
        charts.append(f"peer_{name}.svg")
    json_path, md_path = out_dir / "peer.json", out_dir / "peer.md"
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    md_path.write_text(markdown(results, charts))
    return json_path, md_path
