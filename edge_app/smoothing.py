"""Smoothing across frames: report a reading once it has won k of the last n frames, and only when it changes."""

from __future__ import annotations

from collections import deque


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

    @property
    def reported(self) -> str | None:
        """The last reading reported, if any."""
        return self._reported

    def reset(self) -> None:
        """Forget the window and the last report (e.g. when the ROI or the source changes)."""
        self._window.clear()
        self._reported = None
