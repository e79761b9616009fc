"""Follow the detector's boxes across the frames of a live source, so the region read does not jitter.

Each new detection is matched to last frame's box it overlaps most (IoU); a matched box moves part of
the way to the new one (exponential smoothing), a new one starts where it was found. A box not found
again is dropped at once: a frame without a number reads nothing.
"""

from __future__ import annotations

from .contract import Box
from .inference.detector import Detection, iou

MIN_IOU = 0.3  # below this a detection is another number, not the same one moved
ALPHA = 0.5  # weight of the new box: 0.5 halves frame-to-frame jitter and lags a moving number by about a frame


def blend(old: Box, new: Box, alpha: float) -> Box:
    """alpha * new + (1 - alpha) * old, coordinate by coordinate."""
    return Box(*(alpha * n + (1 - alpha) * o for o, n in zip(old, new)))


class BoxTracker:
    """IoU association plus smoothing of box coordinates; scores are passed through as detected."""

    def __init__(self, min_iou: float = MIN_IOU, alpha: float = ALPHA):
        self.min_iou, self.alpha = min_iou, alpha
        self.boxes: list[Box] = []

    def update(self, detections: list[Detection]) -> list[Detection]:
        """This frame's detections with their boxes smoothed against last frame's, best score first."""
        free = list(self.boxes)
        out = []
        for d in sorted(detections, key=lambda d: -d.score):
            match = max(free, key=lambda b: iou(b, d.box), default=None)
            if match is not None and iou(match, d.box) >= self.min_iou:
                free.remove(match)
                out.append(Detection(blend(match, d.box, self.alpha), d.score))
            else:
                out.append(d)
        self.boxes = [d.box for d in out]
        return out
