"""Summaries of measured values: percentiles, latency summaries, medians and growth slopes.

Percentiles are nearest-rank (`nearest_rank`, what every LSP benchmark reports) except for
load_bench.py, which has kept its own rule (`floor_rank`) so that load.json stays
comparable with earlier runs.
"""

from __future__ import annotations

import math
import statistics
from typing import Any


def is_number(value: Any) -> bool:
    """An int or float, and not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def nearest_rank(values: list[float], percent: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least `percent` % of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def latency_summary(seconds: list[float]) -> dict[str, Any]:
    """Count, p50, p95, max and mean in milliseconds (and every sample when there are at most 50)."""
    ms = [s * 1000 for s in seconds]
    return {
        "count": len(ms),
        "p50_ms": nearest_rank(ms, 50),
        "p95_ms": nearest_rank(ms, 95),
        "max_ms": max(ms) if ms else None,
        "mean_ms": sum(ms) / len(ms) if ms else None,
        "samples_ms": [round(v, 2) for v in ms] if len(ms) <= 50 else None,
    }


def floor_rank(ordered: list[float], fraction: float) -> float:
    """The value at index floor(fraction * n) of sorted values (the last one at most): load_bench's rule."""
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def floor_rank_summary(ms: list[float]) -> dict[str, float]:
    """load_bench's summary of latencies in ms: median, floor-rank p95 and p99, max; rounded to 0.01."""
    values = sorted(ms)
    return {
        "count": len(values),
        "p50_ms": round(statistics.median(values), 2),
        "p95_ms": round(floor_rank(values, 0.95), 2),
        "p99_ms": round(floor_rank(values, 0.99), 2),
        "max_ms": round(values[-1], 2),
    }


def median_or_none(values: list[Any]) -> Any:
    """The median of the numbers among `values` (bools and None left out); None when there are none."""
    present = [v for v in values if is_number(v)]
    if not present:
        return None
    return sorted(present)[(len(present) - 1) // 2] if len(present) % 2 else sum(sorted(present)[
        len(present) // 2 - 1 : len(present) // 2 + 1]) / 2  # fmt: skip


def field_medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Field by field over runs: the median of numbers, the first run's value otherwise."""
    merged: dict[str, Any] = {}
    for key, value in runs[0].items():
        values = [run.get(key) for run in runs]
        if all(is_number(v) for v in values):
            merged[key] = statistics.median(values)  # type: ignore[type-var]
        else:
            merged[key] = value
    return merged


def loglog_slope(xs: list[float], ys: list[float]) -> float | None:
    """The least-squares slope of log(y) against log(x), over the points where both are positive."""
    points = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x and y and x > 0 and y > 0]
    if len(points) < 2:
        return None
    mx = sum(p[0] for p in points) / len(points)
    my = sum(p[1] for p in points) / len(points)
    sxx = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / sxx if sxx else None
