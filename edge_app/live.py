"""Live reading over time: detect -> follow each number (tracks.py) -> read it -> fuse its views (fusion.py).

A track is reported once its fused reading passes the track gate with MIN_VIEWS views behind it (a lone digit
once it has been read for LONE_S as well); it is reported again ("updated") only when the fused reading changes
to one at least as long and as sure; and its end ("gone") is reported when it has left the view. A frame is
judged by what is new in it: views are weighed by the source's frame times and pixel changes, never counted by
frames, so a stalled camera that repeats its last picture builds no confidence.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np

from .contract import center_crop, crop_region, expand_box
from .decode import Reading, decode
from .detect import DetectAndRead, all_boxes, join_rows
from .fusion import View, is_new
from .regions import detection_region
from .tracks import Track, Tracker
from .tta import view_probabilities

log = logging.getLogger("edge_app")
TRACK_GATE = 0.99995  # fused confidence a track must reach to be reported. Chosen with TIGHT on the 270
# tuning clips (sets tune and tune2): 128 right, 4 wrong or false reports, against 112 and 5 for 0.999 without it;
# 0.9999 read 3 more for 4 more wrong. Wrong reports are mostly a number the reader misreads in every frame, which no
# gate removes (docs/research/2026-12-07-lone-digit.md)
MIN_VIEWS = 3  # views that counted before a track may be reported: one frame alone is what --smooth off judges
LONE_S = 0.8  # a lone digit is reported only once read for this long (source time): most wrong reports on the tuning
# clips were one digit of a longer number, alone in view while it entered or a pole hid the rest; 0.8 s halved the
# wrong and false reports on the 270 tuning clips (10 -> 5) and lost none right (1.0 s lost one)
DOUBTFUL = 0.5  # boxes down to this share of the box threshold may continue a track, never start one
TIGHT = 0.9  # until a track is reported, its box is also read shrunk to this share, and the surer reading counts:
# the detector's box is 0.8-1.35 of the number's height and too big a box reads worst (over 1.25: 40% of the tuning
# clips' views right, against 76% within 10%); views read right 47.2% -> 49.4% (tune), 45.8% -> 48.5% (tune2). Not
# for still pictures: every box read twice takes a 640x480 frame over 6 ms, and read again only when unsure, the
# readings it adds were right 73-88% of the time, under the scene gate's 96% (docs/research/2026-12-07-lone-digit.md)
VIEWS = 3  # test-time views read a track's box each frame until it is reported, heads averaged: on the tuning clips
# 3 made 1 wrong report where 1 made 4, for 4 fewer clips right (scripts/eval_clips.py --tta)
READ_TRACKS = 3  # tracks read a frame at most, the surest first: the reader's cost stays bounded
GAP_S = 0.5  # a pause between frames this long is worth a log line (dropped frames)


class Report(NamedTuple):
    """A change in what is in view: a track "reported", "updated" or "gone"."""

    kind: str
    track: Track
    reading: Reading


class FrameClock:
    """Frame times in seconds on the source's clock; notes, once each, the oddities a live source can have."""

    def __init__(self) -> None:
        self.last: float | None = None
        self.stalled = False  # the latest frame has the time of the one before: not a new moment
        self._said: set[str] = set()

    def tick(self, t: float) -> bool:
        """Take a frame's time; False when time went back (a restarted stream: the tracks must end)."""
        last, self.last = self.last, t
        self.stalled = last is not None and t == last
        if last is None:
            return True
        if t < last:
            self.note("back", "the source's frame times went back %.2f s (a restarted stream?): tracks start again",
                       last - t)
            return False
        if t == last:
            self.note("same", "two frames share a time (a stalled camera repeats its picture?): a frame that is not "
                       "new adds no confidence")
        elif t - last > GAP_S:
            self.note("gap", "a %.2f s gap between frames (dropped frames or a variable frame rate): each number's "
                       "box is predicted across it", t - last)
        return True

    def note(self, key: str, text: str, *args) -> None:
        """Log a line the first time this kind of oddity happens."""
        if key not in self._said:
            self._said.add(key)
            log.info(text, *args)


class LiveReader:
    """One live source's tracks and their fused readings."""

    def __init__(self, finder: DetectAndRead, gate: float = TRACK_GATE, min_views: int | None = None):
        self.finder, self.gate = finder, gate
        self.min_views = MIN_VIEWS if min_views is None else min_views
        self.tracker = Tracker()
        self.clock = FrameClock()

    def __call__(self, image: np.ndarray, t: float,
                 lores: np.ndarray | None = None) -> tuple[list[Track], list[Report]]:
        """One frame at time t (seconds): the tracks seen in it and the reports it makes."""
        reports = [] if self.clock.tick(t) else self._end(self.tracker.clear())
        f = self.finder
        boxes = join_rows(all_boxes(f.detector, image, DOUBTFUL * f.box_threshold, f.looks, lores, f.first_look))
        sure = [d for d in boxes if d.score >= f.box_threshold]
        doubtful = [d for d in boxes if d.score < f.box_threshold]
        seen, gone = self.tracker.update(sure, doubtful, t, image.shape[1::-1])
        for track in sorted(seen, key=lambda tr: -tr.score)[:READ_TRACKS]:
            reports += self._read(track, image)
        return seen, reports + self._end(gone)

    def _read(self, track: Track, image: np.ndarray) -> list[Report]:
        region = crop_region(image, detection_region(track.box))
        pixels = center_crop(region)
        if VIEWS == 1 or track.reported is not None:  # once reported, one view a frame keeps the cost down
            length, digits = self.finder.reader.probabilities(pixels)
            reading = decode(length, digits)
        else:  # the heads averaged over test-time views: a reading that shifts with the crop is less sure
            length, digits = view_probabilities(self.finder.reader.probabilities, region, VIEWS)
            reading = decode(length, digits)
            if TIGHT:  # and the box shrunk: keep the surer reading
                tight = crop_region(image, detection_region(expand_box(track.box, TIGHT - 1.0)))
                other = self.finder.reader.probabilities(center_crop(tight))
                if (surer := decode(*other)).confidence > reading.confidence:
                    (length, digits), reading = other, surer
        track.last_read = reading
        if track.grew:  # much more of the number shows now: the views so far saw a part of it
            track.evidence.fade(0.25)
        fresh = not self.clock.stalled and is_new(pixels, track.last_pixels)
        if not fresh:
            self.clock.note("repeat", "the source repeats its picture (a stalled camera?): a view that is not new adds "
                            "no confidence")
        weight = View(track.score, track.shape, track.at_edge, fresh).weight()
        if weight > 0:
            track.evidence.add(length, digits, weight)
            track.last_pixels = pixels
            if track.counted_since is None:
                track.counted_since = self.clock.last
        fused = track.evidence.reading()
        if fused is None or not fused.passes(self.gate) or track.evidence.views < self.min_views:
            return []
        if fused.length <= 1 and self.clock.last - track.counted_since < LONE_S:
            return []  # a digit alone may be the first of a number still entering, or all a pole leaves of it
        if track.reported is None:
            track.reported = fused
            return [Report("reported", track, fused)]
        if fused.text != track.reported.text and fused.length >= track.reported.length:
            track.reported = fused  # a partly hidden or leaving number never shortens what was reported
            return [Report("updated", track, fused)]
        return []

    def _end(self, gone: list[Track]) -> list[Report]:
        return [Report("gone", tr, tr.reported) for tr in gone if tr.reported is not None]

    def end(self) -> list[Report]:
        """The source has ended: every reported number has gone from view."""
        return self._end(self.tracker.clear())

    def in_view(self) -> list[Track]:
        """The reported tracks still followed."""
        return [tr for tr in self.tracker.tracks if tr.reported is not None]
