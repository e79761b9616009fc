"""The one timing loop of the benchmarks: warm up, then time each call with perf_counter."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def time_calls(fn: Callable[[int], object], runs: int, warmup: int = 1) -> np.ndarray:
    """Milliseconds of `runs` calls fn(i), i = 0..runs-1, after `warmup` untimed calls."""
    for i in range(warmup):
        fn(i)
    times = np.empty(runs)
    for i in range(runs):
        start = time.perf_counter()
        fn(i)
        times[i] = (time.perf_counter() - start) * 1000
    return times


def latency_stats(times_ms: np.ndarray) -> dict:
    """Mean, p50, p95 and max milliseconds and calls per second, rounded for reports."""
    t = np.asarray(times_ms, dtype=np.float64)
    return {"mean_ms": round(float(t.mean()), 3), "p50_ms": round(float(np.percentile(t, 50)), 3),
            "p95_ms": round(float(np.percentile(t, 95)), 3), "max_ms": round(float(t.max()), 3),
            "fps": round(1000.0 / float(t.mean()), 1)}
