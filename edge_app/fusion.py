"""Fuse the reader's six heads over the views of one tracked number.

Each view adds its heads' log-probabilities, weighted by how good the view is (View.weight). The fused
heads are those sums, tempered so that the evidence counts as at most MAX_VIEWS independent views (frames
of one number are not independent: the same glare misleads them all), normalised per head and decoded
with the paper's rule, so a fused reading and its confidence mean what a single frame's do.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .contract import MAX_DIGITS
from .decode import Reading, decode

_EPS = 1e-6  # an int8 head's exact 0 stays a strong vote against, not an infinite one
MAX_VIEWS = 2.0  # the most independent views a track's evidence counts as: on the tuning clips 4 read 6 more of 90
# right but made 4 more wrong reports, 1 made fewer of both (scripts/eval_clips.py, docs/research)
EDGE = 1.0  # a box closer than this share of its height to the frame's side may have a digit outside it
NARROWER = 0.8  # a box narrower (for its height) than this share of the track's whole number is partly hidden
NEW_PIXELS = 0.5  # mean absolute change (0-255 levels) below which a view is the same picture again


class View(NamedTuple):
    """What the weight of one view depends on."""

    score: float  # the detector's box score, 0..1
    width_ratio: float  # the box's width for its height / the whole number's (Track.whole_shape): a pole narrows it
    at_edge: bool  # the box is at the frame's side: the number may run on outside the frame
    new: bool  # the picture changed since the view fused last (a stalled camera repeats it)

    def weight(self) -> float:
        """0 for a view that must not count (a cut number, a repeated picture), else up to 1."""
        if self.at_edge or not self.new:
            return 0.0
        narrow = min(1.0, self.width_ratio / NARROWER) ** 3  # a pole in front: the box shrinks to what shows
        return float(self.score) * narrow


def is_new(pixels: np.ndarray, last: np.ndarray | None) -> bool:
    """Whether these model-input pixels differ from the last fused ones (sensor noise alone does)."""
    return last is None or float(np.abs(pixels.astype(np.int16) - last).mean()) >= NEW_PIXELS


def at_edge(box, width: int, height: int, still: bool = False) -> bool:
    """Whether a box (left, top, width, height) is at the frame's side: closer to it than a digit's width, so
    a digit outside the frame, or half in it, may be missing from the box. A number that has stood still in view
    (a fixed camera aimed near it) is cut only where its box touches the side."""
    x, y, w, h = box
    m = 2.0 if still else EDGE * h
    return x <= m or y <= 2.0 or x + w >= width - m or y + h >= height - 2.0


class Evidence:
    """A track's fused heads: per head the weighted sum of log-probabilities, and the total weight."""

    def __init__(self) -> None:
        self.length = np.zeros(MAX_DIGITS + 2)
        self.digits = np.zeros((MAX_DIGITS, 11))
        self.weight = 0.0
        self.views = 0  # views that counted (weight > 0)

    def add(self, length_probs: np.ndarray, digit_probs: np.ndarray, weight: float) -> None:
        """Fuse one view's heads (7,) and (5, 11) with this weight (0 adds nothing)."""
        if weight <= 0:
            return
        self.length += weight * np.log(np.asarray(length_probs, np.float64) + _EPS)
        self.digits += weight * np.log(np.asarray(digit_probs, np.float64) + _EPS)
        self.weight += weight
        self.views += 1

    def fade(self, keep: float) -> None:
        """Keep this share of the evidence: the views so far saw less of the number than the latest."""
        self.length *= keep
        self.digits *= keep
        self.weight *= keep

    def heads(self) -> tuple[np.ndarray, np.ndarray]:
        """The fused length (7,) and digit (5, 11) probabilities."""
        temper = min(1.0, MAX_VIEWS / self.weight) if self.weight > 0 else 1.0
        return _softmax(temper * self.length), _softmax(temper * self.digits)

    def reading(self) -> Reading | None:
        """The fused reading, None before any view counted."""
        return decode(*self.heads()) if self.views else None


def _softmax(logp: np.ndarray) -> np.ndarray:
    e = np.exp(logp - logp.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
