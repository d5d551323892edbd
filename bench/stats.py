"""Latency and timing summaries (no Django: the load driver uses them too)."""

import statistics
from collections.abc import Sequence


def summarize(seconds: Sequence[float]) -> dict[str, float | int]:
    """Median, p95, p99, mean, min and max in milliseconds of a list of durations in seconds."""
    if not seconds:
        return {"samples": 0}
    ordered = sorted(seconds)
    if len(ordered) == 1:
        p95 = p99 = ordered[0]
    else:
        cuts = statistics.quantiles(ordered, n=100, method="inclusive")
        p95, p99 = cuts[94], cuts[98]
    return {
        "samples": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(p95 * 1000, 3),
        "p99_ms": round(p99 * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
        "min_ms": round(ordered[0] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }
