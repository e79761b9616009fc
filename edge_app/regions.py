"""Where to read in a frame: the user's ROI, a scan of windows, the labelled digit boxes, or the detector's box."""

from __future__ import annotations

import functools
from pathlib import Path

from .annotations import read_annotations
from .contract import Box, ContractError, digit_region, expand_box


def detection_region(box: Box) -> Box:
    """The reader's region for a detector box (the union of the digits), grown as the contract grows labelled boxes."""
    return expand_box(box)


def parse_roi(text: str) -> Box:
    """'x,y,w,h' in frame pixels -> Box; raises ValueError with the expected form."""
    try:
        x, y, w, h = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--roi {text!r}: expected x,y,w,h in pixels, e.g. 200,120,240,120") from None
    if w <= 0 or h <= 0:
        raise ValueError(f"--roi {text!r}: width and height must be positive")
    return Box(x, y, w, h)


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
        self._regions = {a.name: digit_region(a.boxes) for a in read_annotations(folder)}

    def region(self, name: str) -> Box:
        """The region of a picture by file name; ContractError when the picture is not labelled."""
        try:
            return self._regions[name]
        except KeyError:
            raise ContractError(f"{name} has no boxes in {self.folder}'s digitStruct") from None
