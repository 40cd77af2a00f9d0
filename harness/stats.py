"""Percentiles, and the median and spread of repeated measurements."""
import statistics

import numpy as np


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"p50": round(float(p50), 2), "p95": round(float(p95), 2), "p99": round(float(p99), 2),
            "max": round(float(max(values)), 2)}


def median_spread(runs: list[dict], key: str) -> dict:
    """{median, min, max, runs} of `key` over repeated runs (None values left out)."""
    values = [run[key] for run in runs if run.get(key) is not None]
    if not values:
        return {"median": None, "min": None, "max": None, "runs": []}
    return {"median": round(statistics.median(values), 3), "min": min(values), "max": max(values), "runs": values}
