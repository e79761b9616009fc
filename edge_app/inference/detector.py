"""The number detector: a downscaled frame in, boxes around house numbers (frame pixels) with a score out.

Outputs (CenterNet style, stride 8, both sigmoid): `heatmap` (H/8, W/8, 1) peaks at number centres;
`box` (H/8, W/8, 4) = (dx, dy) the centre's offset inside its cell in [0, 1], and (w, h) as fractions of
the input's width and height. Decoding is numpy: 3x3 local maxima above the score threshold, boxes,
greedy non-maximum suppression, then mapped to the frame by its own width and height.

A second look (`look_again`) runs the detector once more on a window of the full-resolution frame three
times the box's size: the number then fills a third of the detector's input instead of a few cells, and
its box comes back about twice as tight (on recon/train scenes, 68% of the best boxes at IoU 0.5
against 59%). A close-up, too big for such a window inside the frame, is looked at from further away:
the frame shrunk into a window three times the box, its edge pixels repeated past the frame.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..contract import Box, detector_input, detector_window
from ..package import models_dir
from .card import ModelError
from .runtime import TFLiteModel

DEFAULT_DETECTOR = models_dir() / "number_detector.tflite"  # the shipped detector (installed or in the checkout)
NMS_IOU = 0.45  # two boxes overlapping more than this are one number
MAX_DETECTIONS = 8
ZOOM = 3.0  # a second look's window is 3x the box: the number fills a third of it, inside the 5-40% of the
# frame height the detector was trained on (2x puts it outside and gains nothing; 4x and 6x gain less)
ZOOM_OUT_ABOVE = 0.4  # a box filling more of its look's height than the 5-40% the detector trained on is looked
# at from further away instead: on close-ups (numbers 30-70% of the frame, recon/train) 88.0% read right against 83.3%
SAME_NUMBER_IOU = 0.1  # a second look's box must overlap the first this much to be the same number
LOOK_FLOOR = 0.1  # peaks a look decodes at all: far below any box threshold worth using


class Detection(NamedTuple):
    """One found number: its box (the union of its digits) in frame pixels and the detector's score."""

    box: Box
    score: float


class FrameTooSmall(ValueError):
    """A frame smaller than the detector's input: upscaling would invent detail, so it is refused."""


def local_peaks(heat: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns (row-major order) of cells that are the maximum of their 3x3 neighbourhood and >= threshold."""
    rows, cols = np.nonzero(heat >= threshold)
    # Only the few cells over the threshold are compared with their neighbours: a third of a frame's decode time.
    padded = np.full((heat.shape[0] + 2, heat.shape[1] + 2), -np.inf)
    padded[1:-1, 1:-1] = heat
    neighbours = np.max([padded[rows + dy, cols + dx] for dy in range(3) for dx in range(3)], axis=0)
    keep = heat[rows, cols] >= neighbours
    return rows[keep], cols[keep]


def intersection(a: Box, b: Box) -> float:
    """The area two boxes share."""
    ix = max(0.0, min(a.left + a.width, b.left + b.width) - max(a.left, b.left))
    iy = max(0.0, min(a.top + a.height, b.top + b.height) - max(a.top, b.top))
    return ix * iy


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    inter = intersection(a, b)
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0


def nms(detections: list[Detection], max_iou: float = NMS_IOU) -> list[Detection]:
    """Greedy non-maximum suppression, best score first (all overlaps at once: a tiled frame brings many boxes)."""
    ordered = sorted(detections, key=lambda d: -d.score)
    if len(ordered) < 2:
        return ordered
    b = np.array([d.box for d in ordered], dtype=np.float64)
    x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(x1[:, None], x1) - np.maximum(x0[:, None], x0), 0, None)
    ih = np.clip(np.minimum(y1[:, None], y1) - np.maximum(y0[:, None], y0), 0, None)
    inter = iw * ih
    area = b[:, 2] * b[:, 3]
    union = area[:, None] + area - inter
    over = (inter > max_iou * union) & (union > 0)  # iou > max_iou, without dividing
    keep = []
    suppressed = np.zeros(len(ordered), dtype=bool)
    for i in range(len(ordered)):
        if not suppressed[i]:
            keep.append(ordered[i])
            suppressed |= over[i]
    return keep


def decode_detections(
    heatmap: np.ndarray,
    boxes: np.ndarray,
    frame_size: tuple[int, int],
    threshold: float,
    max_iou: float = NMS_IOU,
    limit: int = MAX_DETECTIONS,
) -> list[Detection]:
    """Dequantised heatmap (gh, gw[, 1]) and boxes (gh, gw, 4) -> detections in a frame of (width, height) pixels."""
    heat = heatmap.reshape(heatmap.shape[0], heatmap.shape[1])
    gh, gw = heat.shape
    fw, fh = frame_size
    found = []
    for r, c in zip(*local_peaks(heat, threshold)):
        dx, dy, w, h = (float(v) for v in boxes[r, c])
        cx, cy = (c + dx) / gw * fw, (r + dy) / gh * fh  # cell + offset, as a fraction of the grid, to frame pixels
        bw, bh = w * fw, h * fh
        if bw > 0 and bh > 0:
            found.append(Detection(Box(cx - bw / 2, cy - bh / 2, bw, bh), float(heat[r, c])))
    return nms(found, max_iou)[:limit]


def zoom_window(box: Box, frame_size: tuple[int, int], input_size: tuple[int, int],
                zoom: float = ZOOM) -> tuple[int, int, int, int] | None:
    """The frame window (x0, y0, x1, y1) of a second look at `box`: `zoom` times its size in the detector's
    aspect, never smaller than the detector's input (no upscaling), kept inside the frame. None when that
    is the whole frame: the first look saw it just so."""
    fw, fh = frame_size
    iw, ih = input_size
    aspect = iw / ih
    h = min(max(zoom * box.height, zoom * box.width / aspect, ih), fh, fw / aspect)
    w = h * aspect
    if h < ih or w < iw or (w >= fw - 1 and h >= fh - 1):
        return None
    cx, cy = box.left + box.width / 2, box.top + box.height / 2
    x0 = round(min(max(cx - w / 2, 0.0), fw - w))
    y0 = round(min(max(cy - h / 2, 0.0), fh - h))
    return x0, y0, x0 + round(w), y0 + round(h)


def zoom_out_window(box: Box, frame_size: tuple[int, int], input_size: tuple[int, int],
                    zoom: float = ZOOM) -> Box | None:
    """For a box too big for a second look inside the frame (it would fill more than ZOOM_OUT_ABOVE of the window's
    height, or of the whole frame's), a window `zoom` times its size in the detector's aspect around it, running off
    the frame; else None."""
    fw, fh = frame_size
    iw, ih = input_size
    inside = zoom_window(box, frame_size, input_size, zoom)
    look_height = inside[3] - inside[1] if inside is not None else min(fh, fw * ih / iw)
    if box.height <= ZOOM_OUT_ABOVE * look_height:
        return None
    h = max(zoom * box.height, zoom * box.width * ih / iw)
    w = h * iw / ih
    return Box(box.left + box.width / 2 - w / 2, box.top + box.height / 2 - h / 2, w, h)


class NumberDetector(TFLiteModel):
    """A loaded detector .tflite (card kind `detector`): a frame in, its detections out."""

    kind = "detector"
    flag = "--detector"

    def __init__(self, model_path=DEFAULT_DETECTOR, threads: int | None = None, edgetpu: bool = False):
        super().__init__(model_path, threads, edgetpu)
        w, h = self.card.input_size
        heat, box = self.card.outputs["heatmap"].shape, self.card.outputs["box"].shape
        if w % 8 or h % 8 or heat[1:] != (h // 8, w // 8, 1) or box[1:] != (h // 8, w // 8, 4):
            raise ModelError(
                f"{self.path}: a detector needs an input of multiples of 8 and stride-8 outputs "
                f"(heatmap {list(heat)}, box {list(box)} for input {w}x{h}); re-export it"
            )
        self.score_threshold = self.card.gate.threshold  # None: the card says why; the app asks for one

    def detect(
        self, frame: np.ndarray, lores: np.ndarray | None = None, threshold: float | None = None
    ) -> list[Detection]:
        """Detections in `frame` pixels; runs on `lores` (a camera's small stream of the same view) when given."""
        fh, fw = frame.shape[:2]
        small = lores if lores is not None else frame
        self.check_size(small)
        limit = self.score_threshold if threshold is None else threshold
        if limit is None:  # never a silent 0
            raise ModelError(f"{self.path} has no measured box score threshold ({self.card.gate.basis}); give one")
        sensor = getattr(small, "sensor_outputs", None)  # the AI Camera ran this look on its sensor (sources/imx500)
        if sensor is not None:
            return decode_detections(sensor["heatmap"], sensor["box"], (fw, fh), limit)
        return self._decode(detector_input(small), (fw, fh), limit)

    def check_size(self, frame: np.ndarray) -> None:
        """Refuse a frame smaller than the detector's input (FrameTooSmall): upscaling would invent detail."""
        w, h = self.card.input_size
        if frame.shape[1] < w or frame.shape[0] < h:
            raise FrameTooSmall(
                f"a {frame.shape[1]}x{frame.shape[0]} frame is smaller than the detector's {w}x{h} "
                "input; use --roi or --boxes for small pictures, or a larger camera --size"
            )

    def look_again(self, frame: np.ndarray, found: Detection) -> Detection | None:
        """A second look at a detection through a window around it (inside the frame, or past it for a close-up):
        the same number's tighter box with this look's score, `found` itself when the window would be the whole
        frame, or None when this look sees no number there."""
        size = (frame.shape[1], frame.shape[0])
        window = zoom_out_window(found.box, size, self.card.input_size)
        if window is not None:  # a close-up: the frame shrunk into a larger window, so the number fills a third
            pixels = detector_window(frame, window)
        else:
            inside = zoom_window(found.box, size, self.card.input_size)
            if inside is None:
                return found
            x0, y0, x1, y1 = inside
            window = Box(x0, y0, x1 - x0, y1 - y0)
            pixels = detector_input(frame[y0:y1, x0:x1])
        near = [Detection(Box(d.box.left + window.left, d.box.top + window.top, d.box.width, d.box.height), d.score)
                for d in self._decode(pixels, (window.width, window.height), LOOK_FLOOR)]
        near = [d for d in near if iou(d.box, found.box) > SAME_NUMBER_IOU]
        return max(near, key=lambda d: d.score, default=None)

    def _decode(self, pixels: np.ndarray, size: tuple[int, int], threshold: float) -> list[Detection]:
        out = self.run(pixels)
        return decode_detections(out["heatmap"], out["box"], size, threshold)
