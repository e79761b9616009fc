"""Where to read in a frame: the user's ROI, a scan of windows, the labelled digit boxes, or the detector's box."""

from __future__ import annotations

import argparse
import functools
import math
from pathlib import Path

from .annotations import read_labels
from .contract import Box, ContractError, digit_region, expand_box

MAX_ROI = 1 << 16


def detection_region(box: Box) -> Box:
    """The reader's region for a detector box (the union of the digits), grown as the contract grows labelled boxes."""
    return expand_box(box)


def parse_roi(text: str) -> Box:
    """'x,y,w,h' in frame pixels -> Box; raises ValueError with the expected form.

    Bounded here, before any frame is seen: finite, w and h positive, all within +-65536 pixels. The
    contract then refuses a region over twice the frame's size, frame by frame.
    """
    try:
        x, y, w, h = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--roi {text!r}: expected x,y,w,h in pixels, e.g. 200,120,240,120") from None
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        raise ValueError(f"--roi {text!r}: x, y, w and h must be finite numbers")
    if w <= 0 or h <= 0:
        raise ValueError(f"--roi {text!r}: width and height must be positive")
    if max(abs(x), abs(y), w, h) > MAX_ROI:
        raise ValueError(f"--roi {text!r}: values must be within {MAX_ROI} pixels; is it in frame pixels?")
    return Box(x, y, w, h)


def roi(text: str) -> Box:
    """argparse type for --roi: parse_roi with argparse's error."""
    try:
        return parse_roi(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix(f"--roi {text!r}: ")) from None


@functools.lru_cache(maxsize=8)  # a camera's frame size never changes: compute its windows once
def scan_windows(width: int, height: int, scales=(1.0, 0.6, 0.35), aspect: float = 2.0) -> tuple[Box, ...]:
    """Windows of a few sizes (height = scale * frame height, width = aspect * height) at half-overlapping steps."""
    windows = []
    for s in scales:
        h = height * s
        w = min(width, h * aspect)
        xs = _steps(width, w)
        ys = _steps(height, h)
        windows += [Box(x, y, w, h) for y in ys for x in xs]
    return tuple(windows)


def _steps(total: float, size: float) -> list[float]:
    if size >= total:
        return [0.0]
    n = int((total - size) // (size / 2)) + 1
    last = total - size
    return [last * i / n for i in range(n + 1)]


class LabelledBoxes:
    """Regions from a picture folder's digitStruct (.csv or .mat): how the app is checked against labels."""

    def __init__(self, folder: Path):
        self.folder = folder
        labels = read_labels(folder)
        self._regions = {a.name: digit_region(a.boxes) for a in labels.annotations}
        self._bad = labels.bad

    def region(self, name: str) -> Box:
        """The region of a picture by file name; ContractError when its label is bad or missing."""
        if name in self._bad:
            raise ContractError(self._bad[name])
        try:
            return self._regions[name]
        except KeyError:
            raise ContractError(f"{name} has no boxes in {self.folder}'s digitStruct") from None


def in_frame(box: Box, image) -> list[int]:
    """[x, y, w, h] in whole pixels of the frame, cut to it: a box decoded at the frame's edge can hang over it."""
    h, w = image.shape[:2]
    x0, y0 = max(0, round(box.left)), max(0, round(box.top))
    x1, y1 = min(w, round(box.left + box.width)), min(h, round(box.top + box.height))
    return [x0, y0, max(1, x1 - x0), max(1, y1 - y0)]
