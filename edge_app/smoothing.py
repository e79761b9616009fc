"""Smoothing across frames: report a reading once it has won k of the last n frames, and only when it changes.

With the detector, a live source follows each number instead (--smooth tracks, the default: edge_app.live)."""

from __future__ import annotations

import argparse
from collections import deque

TRACKS = "tracks"


def parse_smooth(text: str) -> tuple[int, int] | str | None:
    """argparse type for --smooth: 'tracks' -> TRACKS, 'K/N' with 1 <= K <= N <= 100 -> (k, n), or 'off' -> None."""
    if text == "off":
        return None
    if text == TRACKS:
        return TRACKS
    try:
        k, n = (int(v) for v in text.split("/"))
    except ValueError:
        k = n = 0
    if not 1 <= k <= n <= 100:
        raise argparse.ArgumentTypeError(f"{text!r}: expected tracks, K/N with 1 <= K <= N <= 100 (e.g. 3/5), or off")
    return k, n


class Smoother:
    """k-of-n vote over the gated readings of consecutive frames.

    update() returns the reading to report, or None. A reading is reported when it has won at least k of the
    last n frames and differs from the last one reported, so a number in view is reported once, not every
    frame. With k > n/2 only one reading can hold the vote; k=n=1 reports every change.
    """

    def __init__(self, k: int = 3, n: int = 5) -> None:
        if not 1 <= k <= n:
            raise ValueError(f"smoothing needs 1 <= k <= n, got k={k}, n={n}")
        self.k, self.n = k, n
        self._window: deque[str | None] = deque(maxlen=n)
        self._reported: str | None = None

    def update(self, text: str | None) -> str | None:
        """Feed one frame's gated reading (None when nothing passed the confidence gate)."""
        self._window.append(text)
        if text is None or text == self._reported or self._window.count(text) < self.k:
            return None
        self._reported = text
        return text
