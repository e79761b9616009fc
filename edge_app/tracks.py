"""Follow each number across the frames of a live source.

Each track holds a constant-velocity Kalman filter of its box (centre, width, height and their speeds, as
in SORT) in seconds, not frames, so a dropped frame or a variable frame rate predicts the box where the
number went, and a number sliding 15 px a frame is looked for where it will be, not where it was.
Association runs in two passes (ByteTrack): the sure boxes first, then the doubtful ones, which may only
continue a track, never start one. A track missing for MAX_MISSING_S has left.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from .contract import Box
from .decode import Reading
from .fusion import NARROWER, Evidence, at_edge
from .inference.detector import Detection, iou

MATCH_IOU = 0.2  # a box continues a track when it overlaps the predicted box this much...
MATCH_NEAR = 0.6  # ...or its centre is this share of the predicted height from the predicted centre
WIDER = 1.3  # a box this much wider for its height than the track's whole number: more of the number shows now
STILL_S, STILL_SPEED = 1.0, 0.3  # in view this long and slower than this (box heights a second): standing still
MAX_MISSING_S = 1.0  # a track not seen for this long has left the view
WHOLE_PERCENTILE = 75  # the whole number's shape is this percentile of the track's recent box shapes, not their
# widest: one box that also took in the letters beside a number (joined into its row) made every later view of the
# number itself look like a part of it, weighed a tenth (clips tune: 38 -> 39 of 90 right, 1 -> 0 wrong reports;
# tune2: 72 -> 73 of 180, 8 -> 9 wrong)
SHAPES = 30  # recent box shapes kept (2 s at 15 fps)
SIZE_NOISE = 0.05  # a detector box's error: this share of its height, in each coordinate
SPEED_NOISE = 2.0  # how fast a box's speed may change: this many box heights a second, per second


class Kalman:
    """A box's state [cx, cy, w, h, vx, vy, vw, vh] and its covariance; velocities in px a second."""

    def __init__(self, box: Box, t: float):
        self.x = np.array([*_centre(box), 0.0, 0.0, 0.0, 0.0])
        h = max(box.height, 1.0)
        self.p = np.diag([(SIZE_NOISE * h) ** 2] * 4 + [(3.0 * h) ** 2] * 4)  # any speed up to a few heights/s
        self.t = t

    def predict(self, t: float) -> Box:
        """Move the state to time t (seconds) and return the predicted box."""
        dt = max(0.0, t - self.t)
        if dt > 0:
            f = np.eye(8)
            f[:4, 4:] = dt * np.eye(4)
            q = (SPEED_NOISE * max(self.x[3], 1.0)) ** 2 * dt
            g = np.diag([dt * dt / 3] * 4 + [1.0] * 4)  # white acceleration noise, integrated over dt
            g[:4, 4:] = g[4:, :4] = dt / 2 * np.eye(4)
            self.x, self.p = f @ self.x, f @ self.p @ f.T + q * g
            self.t = t
        return self.box

    def update(self, box: Box) -> None:
        """Correct the state with a detected box."""
        r = np.eye(4) * (SIZE_NOISE * max(box.height, 1.0)) ** 2
        s = self.p[:4, :4] + r
        k = self.p[:, :4] @ np.linalg.inv(s)
        self.x = self.x + k @ (np.array(_centre(box)) - self.x[:4])
        self.p = self.p - k @ self.p[:4, :]  # (I - K H) P with H = [I 0]

    @property
    def box(self) -> Box:
        cx, cy, w, h = self.x[:4]
        w, h = max(w, 1.0), max(h, 1.0)
        return Box(cx - w / 2, cy - h / 2, w, h)


def _centre(box: Box) -> tuple[float, float, float, float]:
    return box.left + box.width / 2, box.top + box.height / 2, box.width, box.height


@dataclass(eq=False)
class Track:
    """One number in view: its filtered box, when it was seen, and what its views say together."""

    id: int
    kalman: Kalman
    first_seen: float  # source time, seconds
    last_seen: float
    score: float  # the latest box's detector score
    box: Box  # the latest detected box (the reader crops it: it is where the number is now)
    shapes: deque = field(default_factory=lambda: deque(maxlen=SHAPES))  # recent boxes' width / height, away from
    # the frame's side
    whole_shape: float = 0.0  # the width for its height of the whole number: WHOLE_PERCENTILE of `shapes` (0 before
    # any), kept by see() so the frame's other uses of it do not sort them again
    at_edge: bool = False  # the latest box is at the frame's side (fusion.at_edge)
    partial: bool = False  # the latest box is narrower for its height than the whole number's: part of it hidden
    grew: bool = False  # the latest box is much wider for its height than the whole number's: earlier views saw a part
    whole: Box | None = None  # the latest box that was not partial: where the whole number was last seen
    evidence: Evidence = field(default_factory=Evidence)
    last_pixels: np.ndarray | None = None  # the model input of the latest view that counted
    counted_since: float | None = None  # source time of the first view that counted
    reported: Reading | None = None  # what the track last reported (None: not reported yet)
    seen_at: float = field(default_factory=time.time)  # wall-clock time it was first seen (a video runs faster)
    last_read: Reading | None = None  # the latest view's own reading


    def see(self, box: Box, size: tuple[int, int], t: float) -> None:
        """Take this frame's box (in a frame of `size`, at time t): where it is and how much of the number shows."""
        self.box, self.at_edge = box, at_edge(box, *size, still=self.still(t))
        shape, whole = box.width / max(box.height, 1.0), self.whole_shape  # the whole number's before this box
        self.partial = whole > 0 and shape < NARROWER * whole
        if not self.partial:
            self.whole = box
        self.grew = whole > 0 and shape > WIDER * whole and not self.at_edge
        if not self.at_edge:
            self.shapes.append(shape)
            self.whole_shape = float(np.percentile(self.shapes, WHOLE_PERCENTILE))

    def still(self, t: float) -> bool:
        """Whether the number has stood still in view for STILL_S: a fixed camera's, not one entering or leaving."""
        speed = float(np.hypot(*self.kalman.x[4:6])) / max(self.kalman.x[3], 1.0)
        return t - self.first_seen >= STILL_S and speed < STILL_SPEED

    @property
    def shape(self) -> float:
        """The latest box's width for its height, as a share of the whole number's (1.0 before any)."""
        return self.box.width / max(self.box.height, 1.0) / self.whole_shape if self.whole_shape else 1.0


def _pairs(tracks: list[Track], boxes: list[Detection], predicted: dict[int, Box]) -> list[tuple[Track, Detection]]:
    """Greedy one-to-one matching, best overlap first; a pair must overlap or lie close enough."""
    scored = []
    for t in tracks:
        p = predicted[t.id]
        for d in boxes:
            overlap = iou(p, d.box)
            near = np.hypot(*(np.subtract(_centre(p)[:2], _centre(d.box)[:2]))) / max(p.height, 1.0)
            if overlap >= MATCH_IOU or near <= MATCH_NEAR:
                scored.append((overlap - near, t, d))
    pairs, used_t, used_d = [], set(), set()
    for _, t, d in sorted(scored, key=lambda s: -s[0]):
        if id(t) not in used_t and id(d) not in used_d:
            used_t.add(id(t))
            used_d.add(id(d))
            pairs.append((t, d))
    return pairs


def _pairs_within(tracks: list[Track], boxes: list[Detection]) -> list[tuple[Track, Detection]]:
    """Each track with the best-scoring box lying within where its whole number was last seen."""
    pairs, used = [], set()
    for tr in tracks:
        inside = [d for d in boxes if id(d) not in used and _inside(d.box, tr.whole)]
        if inside:
            best = max(inside, key=lambda d: d.score)
            used.add(id(best))
            pairs.append((tr, best))
    return pairs


def _inside(box: Box, track: Box | None) -> bool:
    """Whether most of a box lies within a track's box, grown by half its height (a part of its number)."""
    if track is None:
        return False
    g = 0.5 * track.height
    x0, y0 = max(box.left, track.left - g), max(box.top, track.top - g)
    x1 = min(box.left + box.width, track.left + track.width + g)
    y1 = min(box.top + box.height, track.top + track.height + g)
    return max(0.0, x1 - x0) * max(0.0, y1 - y0) >= 0.6 * box.width * box.height


class Tracker:
    """The tracks of a live source; update() once a frame with its sure and doubtful boxes."""

    def __init__(self, max_missing_s: float = MAX_MISSING_S):
        self.max_missing_s = max_missing_s
        self.tracks: list[Track] = []
        self._next_id = 1

    def update(self, sure: list[Detection], doubtful: list[Detection], t: float,
               size: tuple[int, int]) -> tuple[list[Track], list[Track]]:
        """Match this frame's boxes (in a frame of `size`, width and height) to the tracks at time t (seconds).
        Returns (the tracks seen in this frame, the tracks that have left: not seen for max_missing_s)."""
        predicted = {tr.id: tr.kalman.predict(t) for tr in self.tracks}
        first = _pairs(self.tracks, sure, predicted)
        matched = {id(tr) for tr, _ in first}
        rest = [tr for tr in self.tracks if id(tr) not in matched]
        second = _pairs(rest, doubtful, predicted)
        matched |= {id(tr) for tr, _ in second}
        used = {id(d) for _, d in first}
        # a sure box within where a track's number was last seen whole is a part of it (a pole in front splits it)
        parts = _pairs_within([tr for tr in self.tracks if id(tr) not in matched],
                              [d for d in sure if id(d) not in used])
        used |= {id(d) for _, d in parts}
        seen = []
        for tr, d in first + second + parts:
            tr.score, tr.last_seen = d.score, t
            tr.see(d.box, size, t)
            if not tr.partial:  # a part of the number (a pole in front) would drag the box off it: coast instead
                tr.kalman.update(d.box)
            seen.append(tr)
        for d in sure:  # the others start tracks, but not a second part of a number followed already
            if id(d) not in used and not any(_inside(d.box, tr.whole) or _inside(d.box, predicted.get(tr.id, tr.box))
                                             for tr in self.tracks):
                tr = Track(self._next_id, Kalman(d.box, t), t, t, d.score, d.box)
                tr.see(d.box, size, t)
                self._next_id += 1
                self.tracks.append(tr)
                seen.append(tr)
        gone = [tr for tr in self.tracks if t - tr.last_seen > self.max_missing_s]
        self.tracks = [tr for tr in self.tracks if tr not in gone]
        return seen, gone

    def clear(self) -> list[Track]:
        """End every track (the source's clock went back); returns them."""
        gone, self.tracks = self.tracks, []
        return gone
