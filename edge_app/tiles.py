"""The detector's first look at more than one scale: the whole frame, then overlapping tiles of it.

The detector was trained on numbers 5-40% of its 192x144 input's height. A house number seen by a camera on
a wall is often 2-5% of the frame: at the whole-frame look it is a few pixels tall and never found. So the
frame is looked at in levels, each a grid of windows in the detector's aspect (never squashed, whatever the
frame's aspect), every window shrunk to the detector's input:

    level 0: the largest windows the frame holds (one for a 4:3 frame, two for a portrait or 16:9 one);
    level 1: windows 0.6 of the frame's height (of a 4:3 frame as many pixels), 2x2 with overlap on 4:3;
    level 2: windows 0.3 of it, 4x4 with overlap on 4:3.

A level of tiles under 1.5 times the detector's input is skipped (at the input's own scale they found no more
than the level above; upscaling would invent detail): a 640x480 frame gets levels 0 and 1, a 1024x768 photo all
three. A box that touches a window's side inside the
frame is cut by it: it is dropped there, and found whole in the overlapping window or the coarser level.
On a live source the tiles can be spread over frames (`TileLooks.per_frame`): level 0 every frame, the next
few tiles in turn, and boxes a tile found are kept for the frames until that tile's next turn. A picture gets all
its tiles at once. By default only frames larger than 640x480 get tiles (`above`; see STILL_ABOVE).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .contract import Box, shrink
from .inference.detector import Detection, NumberDetector, decode_detections, intersection, nms

LEVELS = (1.0, 0.6, 0.3)  # window height as a share of a 4:3 frame's: on the real photos' tuning half, 0.3 finds the
# numbers of 2-5% of the frame height that 0.5 misses (scripts/eval_real.py)
LIVE_TILES = 1  # tiles a live frame looks at besides the whole frame (--tiles); a 1280x960 camera's 20 tiles in
# 20 frames took a frame from 6.3 to 11.3 ms p50 (docs/research/2026-12-06-real-photos.md)
STILL_ABOVE = 640 * 480  # by default only frames with more pixels than this get tiles: on 640x480 tuning scenes
# (h73) all tiles at once took a frame from 4.9 to 8.2 ms p50 and one tile a frame to 7.9 ms, past the 6 ms
# budget, for 0.6 points more read right at 1.7 points less precision; a photo of 1024x768 or more finds its far
# numbers only so
OVERLAP = 0.2  # neighbouring windows share at least this share of their width or height
EDGE = 2.0  # detector-input pixels: a box this close to a window's inner side is cut by it
PART_OF = 0.5  # a tile's box lying this much inside a coarser look's box is part of that number (one digit of
# a wide number fits a tile whole): on the tuning composites such parts were most of the tiles' false readings
MIN_SHRINK = 1.5  # a tile is at least this many times the detector's input: on 640x480 tuning composites, tiles
# at the input's own scale (144 px) found no more numbers than those at twice it, for 16 more detector runs


class Window(NamedTuple):
    """One look: a window of the frame (frame pixels) and its level (0 = the coarsest)."""

    box: Box
    level: int


def _starts(frame: float, window: float) -> list[float]:
    """Evenly spaced starts of windows covering `frame` with at least OVERLAP between neighbours."""
    if window >= frame - 1:
        return [max(0.0, (frame - window) / 2)]
    n = math.ceil((frame - window) / (window * (1 - OVERLAP))) + 1
    return list(np.linspace(0.0, frame - window, n))


def windows(frame_size: tuple[int, int], input_size: tuple[int, int], levels=LEVELS) -> list[Window]:
    """The windows of level 0 and of each finer level whose windows are at least MIN_SHRINK times the detector's
    input, coarsest first, each in the detector's aspect."""
    fw, fh = frame_size
    iw, ih = input_size
    aspect = iw / ih
    top_h = min(fh, fw / aspect)  # level 0: the largest window in the detector's aspect that fits the frame
    # Finer levels scale with the frame's area, not its shorter side: a portrait frame is not looked at finer
    # than a landscape one of as many pixels.
    area_h = math.sqrt(fw * fh / aspect)
    out = []
    for level, share in enumerate(levels):
        h = top_h if level == 0 else min(top_h, area_h * share)
        w = h * aspect
        if level > 0 and h < MIN_SHRINK * ih - 0.5:
            break
        out += [Window(Box(x, y, w, h), level) for y in _starts(fh, h) for x in _starts(fw, w)]
    return out


class Run(NamedTuple):
    """The detector's outputs on one window: where the window lies in the shrunk frame, and that frame's size."""

    out: dict[str, np.ndarray]
    x0: int
    y0: int
    shrunk: tuple[int, int]  # (width, height) of the frame shrunk for this window's level


def run_windows(detector: NumberDetector, frame: np.ndarray, chosen: list[Window]) -> list[Run]:
    """The detector on each chosen window, the frame shrunk once per level."""
    fh, fw = frame.shape[:2]
    iw, ih = detector.card.input_size
    runs = []
    small = frame
    for level in sorted({w.level for w in chosen}, reverse=True):  # finest first: each shrinks the one before
        level_windows = [w.box for w in chosen if w.level == level]
        scale = ih / level_windows[0].height
        small = shrink(small, (max(iw, round(fw * scale)), max(ih, round(fh * scale))))
        sh, sw = small.shape[:2]
        for win in level_windows:
            x0 = min(max(0, round(win.left * scale)), sw - iw)
            y0 = min(max(0, round(win.top * scale)), sh - ih)
            runs.append(Run(detector.run(np.ascontiguousarray(small[y0 : y0 + ih, x0 : x0 + iw])), x0, y0, (sw, sh)))
    return runs


def decode_runs(runs: list[Run], frame_size: tuple[int, int], input_size: tuple[int, int],
                threshold: float) -> list[Detection]:
    """The runs' boxes at `threshold` in frame pixels; boxes cut by a window's inner side are dropped, the rest
    merged by non-maximum suppression."""
    fw, fh = frame_size
    iw, ih = input_size
    found: list[Detection] = []
    for r in runs:
        sw, sh = r.shrunk
        inner = (r.x0 > 0, r.y0 > 0, r.x0 + iw < sw, r.y0 + ih < sh)  # sides of the window inside the frame
        for d in decode_detections(r.out["heatmap"], r.out["box"], (iw, ih), threshold):
            if _cut(d.box, iw, ih, inner):
                continue
            b = d.box
            # the shrunk frame is the frame at (sw/fw, sh/fh): rounding makes the two differ a little
            found.append(Detection(Box((b.left + r.x0) * fw / sw, (b.top + r.y0) * fh / sh,
                                       b.width * fw / sw, b.height * fh / sh), d.score))
    return nms(found)


def look(detector: NumberDetector, frame: np.ndarray, chosen: list[Window], threshold: float) -> list[Detection]:
    """The detector on each chosen window, boxes at `threshold` mapped back to the frame (decode_runs)."""
    return decode_runs(run_windows(detector, frame, chosen), frame.shape[1::-1], detector.card.input_size, threshold)


def _part_of(d: Detection, coarser: list[Detection]) -> bool:
    area = d.box.width * d.box.height
    return any(intersection(d.box, c.box) >= PART_OF * area for c in coarser)


def _cut(box: Box, iw: int, ih: int, inner: tuple[bool, bool, bool, bool]) -> bool:
    left, top, right, bottom = inner
    return ((left and box.left < EDGE) or (top and box.top < EDGE)
            or (right and box.left + box.width > iw - EDGE) or (bottom and box.top + box.height > ih - EDGE))


class TileLooks:
    """The first look of --detect over the levels: all windows at once (pictures), or on a live source level 0
    every frame and `per_frame` tiles in turn, each tile's boxes kept until its next turn; frames of at most `above`
    pixels get level 0 alone."""

    def __init__(self, detector: NumberDetector, levels=LEVELS, per_frame: int | None = None, above: int = 0):
        self.detector, self.levels, self.per_frame, self.above = detector, levels, per_frame, above
        self._size: tuple[int, int] | None = None
        self._windows: list[Window] = []
        self._turn = 0
        self._kept: dict[int, list[Detection]] = {}  # tile index -> what it found at its last turn
        self._runs: list[list[Run]] = [[], []]  # the last frame's runs (whole frame, tiles), for `again`

    @property
    def all_tiles(self) -> bool:
        """Whether the last frame was looked at through every tile at once (a picture larger than `above`)."""
        return self.per_frame is None and any(w.level > 0 for w in self._windows)

    def __call__(self, frame: np.ndarray, threshold: float, lores: np.ndarray | None = None) -> list[Detection]:
        """The frame's first-look boxes at `threshold`, best first, in frame pixels."""
        whole, finer = self.looks(frame, threshold, lores)
        return nms(whole + finer)

    def looks(self, frame: np.ndarray, threshold: float, lores: np.ndarray | None = None,
              again: bool = False) -> tuple[list[Detection], list[Detection]]:
        """The whole frame's boxes and the tiles' (less those cut by a tile or part of a whole-frame box), each best
        first, in frame pixels. `again`: the same picture as the last call, at another threshold, without running
        the detector again (pictures only: a live source's tiles take turns)."""
        size = (frame.shape[1], frame.shape[0])
        if size != self._size:
            self._size, self._turn, self._kept = size, 0, {}
            levels = self.levels if size[0] * size[1] > self.above else self.levels[:1]
            self._windows = windows(size, self.detector.card.input_size, levels)
        top = [w for w in self._windows if w.level == 0]
        tiles = self._windows[len(top):]
        if again and self.per_frame is not None:
            raise ValueError("looks(again=True) is for pictures, whose tiles are all looked at at once")
        if lores is not None and len(top) == 1:  # a camera's lores stream is level 0, already shrunk
            found = self.detector.detect(frame, lores, threshold)
        else:
            self.detector.check_size(frame)
            found = self._look(frame, top, threshold, 0, again)
        if self.per_frame is None:
            finer = self._look(frame, tiles, threshold, 1, again) if tiles else []
        else:
            for _ in range(min(self.per_frame, len(tiles))):
                i = self._turn % len(tiles)
                self._kept[i] = look(self.detector, frame, [tiles[i]], threshold)
                self._turn += 1
            finer = [d for kept in self._kept.values() for d in kept]
        return found, nms([d for d in finer if not _part_of(d, found)])

    def _look(self, frame: np.ndarray, chosen: list[Window], threshold: float, slot: int,
              again: bool) -> list[Detection]:
        """look(), keeping the detector's runs in `slot` (0 the whole frame, 1 the tiles); `again` reuses them."""
        if not again:
            self._runs[slot] = run_windows(self.detector, frame, chosen)
        return decode_runs(self._runs[slot], frame.shape[1::-1], self.detector.card.input_size, threshold)
