"""The run summary: frames, skipped frames, readings reported, FPS and latency percentiles."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import numpy as np


class Summary:
    """Counts and timings of a run: frames, skipped frames, readings reported, fps, latency percentiles."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self.frames = 0
        self.skipped = 0  # frames that could not be read or processed
        self.readings = 0
        # Percentiles over the last 100k frames: a device that runs for months must not grow without bound.
        self.latencies_ms: deque[float] = deque(maxlen=100_000)
        self._recent: deque[float] = deque(maxlen=30)  # frame times for the rolling FPS the status page shows
        self._first: float | None = None
        self._last: float | None = None

    def add_frame(self, latency_ms: float | None = None, *, skipped: bool = False) -> None:
        """Count one frame, with its processing latency unless it was skipped."""
        now = self._clock()
        self._first = now if self._first is None else self._first
        self._last = now
        self._recent.append(now)
        self.frames += 1
        if skipped:
            self.skipped += 1
        elif latency_ms is not None:
            self.latencies_ms.append(float(latency_ms))

    def add_reading(self) -> None:
        """Count one reported reading."""
        self.readings += 1

    @property
    def fps(self) -> float | None:
        """Frames per second over the wall time from the first frame to the last (n frames, n-1 gaps)."""
        if self.frames < 2 or self._last == self._first:
            return None
        return (self.frames - 1) / (self._last - self._first)

    @property
    def recent_fps(self) -> float | None:
        """Frames per second over the last 30 frames."""
        if len(self._recent) < 2 or self._recent[-1] == self._recent[0]:
            return None
        return (len(self._recent) - 1) / (self._recent[-1] - self._recent[0])

    def as_dict(self) -> dict:
        lat = np.asarray(self.latencies_ms)
        latency = None
        if lat.size:
            p50, p95 = np.percentile(lat, [50, 95])
            latency = {"p50": float(p50), "p95": float(p95), "mean": float(lat.mean()), "max": float(lat.max())}
        return {
            "frames": self.frames,
            "skipped": self.skipped,
            "readings": self.readings,
            "fps": self.fps,
            "latency_ms": latency,
        }

    def text(self) -> str:
        """'frames 120 (2 skipped)  readings 7  fps 63.2  latency p50 2.1 ms p95 3.4 ms'."""
        d = self.as_dict()
        fps = f"{d['fps']:.1f}" if d["fps"] is not None else "-"
        lat = d["latency_ms"]
        latency = f"p50 {lat['p50']:.1f} ms p95 {lat['p95']:.1f} ms" if lat else "-"
        return f"frames {self.frames} ({self.skipped} skipped)  readings {self.readings}  fps {fps}  latency {latency}"
