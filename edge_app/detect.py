"""--detect: find the number with the detector, cut its box out of the full frame through the contract, read it.

One frame's path, shared by the app and the benchmark: the detector's first look (on the lores stream
where there is one) -> the best three boxes -> a second look at each through a window of the full frame
(--looks 2, the default) -> the best two at the box threshold -> each grown by 30% into the reader's region
-> the reader (its centre view reads; with --tta, all views weigh how sure it is) -> the most confident
reading. A frame with no box reads nothing. A live source follows the boxes across frames instead
(edge_app.live), with all_boxes and join_rows from here.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .contract import Box, crop_region, expand_box, model_input, union_box
from .decode import Reading
from .inference.card import ModelError, SceneGate
from .inference.detector import Detection, NumberDetector, nms
from .inference.reader import HouseNumberModel
from .regions import detection_region
from .tiles import LEVELS, STILL_ABOVE, TileLooks
from .tta import weighed_reading

log = logging.getLogger("edge_app")
MAX_READ = 2  # boxes read per frame, best score first: a house front rarely shows more numbers
SCALES = (1.0,)  # box sizes read and averaged; (1.0, 1.15) also reads the box grown 15%
LOOKS = 2  # the second look costs a detector run per box and reads 13 points more numbers right (docs/detector.md)
FIRST_LOOK = 0.15  # with two looks, the first keeps its best boxes down to this score; the box threshold
# applies to the second look's score, which says better whether the box holds a number
TILE_LOOK_AGAIN = 2  # the tiles' best first-look boxes looked at again besides the whole frame's three: on the real
# photos' tuning half 3 and 5 found no more numbers than 2, and 1 lost one (scripts/eval_real.py)
ROW_GAP = 0.8  # boxes in one row at most this many digit heights apart are one number (join_rows)
ROW_HEIGHTS = 1.4  # ...and of heights within this ratio
# A picture with tiles whose boxes read nothing past the gate is searched further (DetectAndRead.search): on the real
# photos' tuning half the detector ranks a real number below windows and bricks, and its second look scores it
# low, yet the reader reads it and says "no number" for nearly all the rest. Chosen there (1 -> 3 of 10 read
# right, no reading on the 17 photos without one) and on 300 tuning composites at 1280x960 with numbers of 2-10%
# of the height (102 -> 104 right, 6 wrong before and after, 0 false): docs/research/2026-12-07-real-photo-search.md.
SEARCH_TILES = 8  # the tiles' best first-look boxes searched (with the whole frame's LOOK_AGAIN); 12 found no more
SEARCH_FLOOR = 0.02  # their first-look score floor
SEARCH_SECOND = 0.2  # a box's second look must see a number there at least this much
SEARCH_GATE = 0.9955  # and a reading is believed only when each of its heads is this sure (Reading.per_head): a
# gate on the joint confidence of 0.99 had passed one-digit readings only, since the int8 heads top out at 255/256
# and two digits reach at most 0.988; lower, photos without a number read (docs/research/2026-12-07-real-photo-finer.md)
LOOK_AGAIN = 3  # first-look boxes looked at again, of which the best MAX_READ by the second look are read: on
# the tuning scenes a third finds 2.6 points more numbers for about 0.3 ms (docs/detector.md)


class Found(NamedTuple):
    """The best reading of a frame, the region it was read from and the detection behind it."""

    reading: Reading
    region: Box
    detection: Detection


def most_confident(found: list[Found]) -> Found | None:
    """The best reading of a frame (Reading.rank; the first of equals), or None."""
    return max(found, key=lambda f: f.reading.rank(), default=None)


def detector_for(path, edgetpu: bool) -> tuple[Path, bool]:
    """The detector to load and whether on the Edge TPU: with --edgetpu, its compiled `_edgetpu.tflite` beside it
    when there is one (the same card), else the CPU one with a log line saying how to compile it."""
    path = Path(path)
    if not edgetpu or path.stem.endswith("_edgetpu"):
        return path, edgetpu
    compiled = path.with_name(f"{path.stem}_edgetpu.tflite")
    if compiled.is_file():
        return compiled, True
    log.info("--edgetpu: no %s beside the detector, so it runs on the CPU (compile it: edgetpu_compiler -o %s %s; "
             "docs/coral.md)", compiled.name, path.parent, path)
    return path, False


def _tuned_gate(detector: NumberDetector, reader: HouseNumberModel, looks: int) -> tuple[SceneGate | None, str]:
    """The detector card's scene gate when it was tuned with this very reader and number of looks, else None and why."""
    scene = detector.card.scene_gate
    if scene is None:
        return None, "the detector card has no scene gate"
    if scene.reader_sha256 != reader.sha256:
        return None, f"the detector's scene gate was tuned with another reader; using {reader.path}'s own gate"
    if scene.looks != looks:
        return None, f"the detector's scene gate was tuned with --looks {scene.looks}; using each model's own gate"
    return scene, ""


def scene_views(detector: NumberDetector, reader: HouseNumberModel, looks: int = LOOKS, tta: int | None = None) -> int:
    """--detect's test-time views a box: `tta` where given, else the views the detector card's scene gate was tuned
    with for this reader and looks (so its gate holds by default), else 1."""
    if tta is not None:
        return tta
    scene, _ = _tuned_gate(detector, reader, looks)
    return scene.tta if scene is not None else 1


def detect_thresholds(detector: NumberDetector, reader: HouseNumberModel, box_threshold: float | None = None,
                      threshold: float | None = None, looks: int = LOOKS, tta: int = 1) -> tuple[float, float | None]:
    """--detect's (box score, reader gate): each flag where given, else the detector card's scene gate when it
    was tuned with this very reader, number of looks and test-time views, else each model's own gate. No box
    score is a ModelError (never a silent 0); no reader gate is None, for the caller to refuse where it needs one."""
    scene, why = _tuned_gate(detector, reader, looks)
    if scene is not None and scene.tta != tta:
        scene, why = None, f"the detector's scene gate was tuned with --tta {scene.tta}; using each model's own gate"
    if scene is None and detector.card.scene_gate is not None:
        log.info(why)
    box = box_threshold if box_threshold is not None else scene.box_threshold if scene else detector.score_threshold
    gate = threshold if threshold is not None else scene.reader_threshold if scene else reader.threshold
    if box is None:
        raise ModelError(f"{detector.path} has no measured box score threshold ({detector.card.gate.basis}); "
                         "pass --box-threshold")
    return box, gate


def find_boxes(detector: NumberDetector, image: np.ndarray, box_threshold: float, looks: int = LOOKS,
               max_read: int = MAX_READ, lores: np.ndarray | None = None,
               first_look: TileLooks | None = None, again=None) -> list[Detection]:
    """The boxes --detect reads, best first: the first look's (whole frame and tiles, tiles.TileLooks) at the box
    threshold, or with two looks, the whole frame's best LOOK_AGAIN boxes and the tiles' best TILE_LOOK_AGAIN looked
    at again, kept at the box threshold, and the best `max_read` of those (two second looks that land on the same
    number are one box)."""
    return [d for d in all_boxes(detector, image, box_threshold, looks, lores, first_look, again)
            if d.score >= box_threshold][:max_read]


def all_boxes(detector: NumberDetector, image: np.ndarray, floor: float, looks: int = LOOKS,
              lores: np.ndarray | None = None, first_look: TileLooks | None = None, again=None) -> list[Detection]:
    """find_boxes' boxes down to the score `floor`, all of them, best first; `again(image, box)` takes the second
    looks (default: the detector's look_again)."""
    first_look = first_look or TileLooks(detector, above=STILL_ABOVE)
    again = again or detector.look_again
    if looks == 1:
        return first_look(image, floor, lores)
    whole, finer = first_look.looks(image, min(FIRST_LOOK, floor), lores)
    # The tiles' boxes have their own share of second looks: many more windows bring many more textures that
    # outscore a real number at the first look, and without a share of their own they would crowd it out.
    first = whole[:LOOK_AGAIN] + finer[:TILE_LOOK_AGAIN]
    second = [again(image, d) for d in first]
    return nms([d for d in second if d is not None and d.score >= floor])


def join_rows(detections: list[Detection], gap: float = ROW_GAP) -> list[Detection]:
    """Boxes side by side in one row of digits joined into one box, best first: the detector may box the digits of
    a widely spaced number (a modern plate, a pole in front) one by one, and each alone reads as a short number."""
    boxes = sorted(detections, key=lambda d: d.box.left)
    joined = True
    while joined:
        joined = False
        for i, a in enumerate(boxes):
            b = next((b for b in boxes[i + 1:] if _one_row(a.box, b.box, gap)), None)
            if b is not None:
                boxes.remove(b)
                boxes[i] = Detection(union_box((a.box, b.box)), max(a.score, b.score))
                joined = True
                break
    return sorted(boxes, key=lambda d: -d.score)


def _one_row(a: Box, b: Box, gap: float) -> bool:
    """Whether two boxes look like parts of one row of digits: the same height, level, at most `gap` heights apart."""
    h = max(a.height, b.height)
    level = min(a.top + a.height, b.top + b.height) - max(a.top, b.top)
    apart = max(a.left, b.left) - min(a.left + a.width, b.left + b.width)
    return min(a.height, b.height) >= h / ROW_HEIGHTS and level >= 0.6 * min(a.height, b.height) and apart <= gap * h


class DetectAndRead:
    """Detector + reader for one frame at a time (a live source's tracks use its parts: edge_app.live)."""

    def __init__(self, detector: NumberDetector, reader: HouseNumberModel, box_threshold: float,
                 max_read: int = MAX_READ, scales: tuple[float, ...] = SCALES,
                 looks: int = LOOKS, tta: int = 1, levels: tuple[float, ...] = LEVELS,
                 tiles_per_frame: int | None = None, tiles_above: int = STILL_ABOVE, gate: float | None = None):
        self.detector, self.reader, self.box_threshold = detector, reader, box_threshold
        self.first_look = TileLooks(detector, levels, tiles_per_frame, tiles_above)
        self.max_read, self.scales, self.looks, self.tta = max_read, scales, looks, tta
        self.gate = gate  # the reader's gate: given, a picture with tiles whose best boxes fail it is searched
        self._looked: dict[Detection, Detection | None] = {}  # this frame's second looks and readings, by box:
        self._read: dict[Box, Reading] = {}  # the search reuses what find and read_boxes took

    def __call__(self, image: np.ndarray, lores: np.ndarray | None = None) -> Found | None:
        return self.or_search(image, most_confident(self.candidates(image, lores)))

    def or_search(self, image: np.ndarray, found: Found | None) -> Found | None:
        """`found` (the frame's best reading), or when it fails the gate on a picture seen through every tile, what
        `search` finds there, if anything."""
        if self.gate is None or self.looks == 1 or not self.first_look.all_tiles or \
                (found is not None and found.reading.passes(self.gate)):
            return found
        return self.search(image) or found

    def search(self, image: np.ndarray) -> Found | None:
        """More of the first-look boxes of the picture last given to `find`, each read from its own box and from its
        second look's (those `find` took and read are not taken again): the most confident reading whose heads are
        SEARCH_GATE sure or more, else None (see SEARCH_TILES)."""
        whole, finer = self.first_look.looks(image, SEARCH_FLOOR, again=True)  # the first look's runs, again
        found = []
        for first in whole[:LOOK_AGAIN] + finer[:SEARCH_TILES]:
            again = self._look_again(image, first)
            if again is None or again.score < SEARCH_SECOND:
                continue
            for box in dict.fromkeys((first.box, again.box)):
                if box not in self._read and self._centre_sees_none(image, box):
                    continue
                reading = self._read_once(image, box)
                if reading.length > 0 and reading.per_head() >= SEARCH_GATE:
                    found.append(Found(reading, detection_region(box), Detection(box, again.score)))
        return most_confident(found)

    def candidates(self, image: np.ndarray, lores: np.ndarray | None = None) -> list[Found]:
        """Each of the best `max_read` boxes of the frame with its reading, best box score first."""
        return self.read_boxes(image, self.find(image, lores))

    def read_boxes(self, image: np.ndarray, found: list[Detection]) -> list[Found]:
        """The best `max_read` of these boxes, each with its reading."""
        out = [Found(self.read(image, d.box), detection_region(d.box), d) for d in found[: self.max_read]]
        self._read.update((f.detection.box, f.reading) for f in out)  # for the search of this frame
        return out

    def find(self, image: np.ndarray, lores: np.ndarray | None = None) -> list[Detection]:
        """The boxes to read, best first (find_boxes with this reader's settings); a new frame."""
        self._looked, self._read = {}, {}
        return find_boxes(self.detector, image, self.box_threshold, self.looks, self.max_read, lores, self.first_look,
                          self._look_again)

    def _look_again(self, image: np.ndarray, first: Detection) -> Detection | None:
        """The detector's second look at a first-look box, once a frame."""
        if first not in self._looked:
            self._looked[first] = self.detector.look_again(image, first)
        return self._looked[first]

    def _centre_sees_none(self, image: np.ndarray, box: Box) -> bool:
        """With test-time views, whether the centre view reads no number here: it says the reading's text
        (tta.weighed_reading), so the other views need not run (on the real photos' tune half 45-47 ms a photo
        against 48-54 ms without this)."""
        return self.tta > 1 and self.scales == (1.0,) and \
            self.reader.read(model_input(image, detection_region(box))).length == 0

    def _read_once(self, image: np.ndarray, box: Box) -> Reading:
        """`read`, once a frame for each box."""
        if box not in self._read:
            self._read[box] = self.read(image, box)
        return self._read[box]

    def read(self, image: np.ndarray, box: Box) -> Reading:
        """The reader on the box's region (with several scales, on each): the centre view reads, and with `tta`
        views, all views together say how sure that reading is (tta.weighed_reading)."""
        if self.scales == (1.0,) and self.tta == 1:
            return self.reader.read(model_input(image, detection_region(box)))
        regions = [crop_region(image, detection_region(expand_box(box, s - 1.0))) for s in self.scales]
        return weighed_reading(self.reader.probabilities, regions, self.tta)
