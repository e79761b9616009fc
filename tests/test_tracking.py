"""Boxes followed across frames: jitter is damped, another number starts fresh, a lost number is dropped."""

import numpy as np
import pytest

from edge_app.contract import Box
from edge_app.inference.detector import Detection
from edge_app.tracking import BoxTracker


def test_jitter_is_damped_and_the_box_follows_a_move():
    rng = np.random.default_rng(0)
    tracker = BoxTracker()
    raw, steady = [], []
    for _ in range(40):
        box = Box(*(np.array([200, 150, 120, 60]) + rng.normal(0, 4, 4)))
        raw.append(box)
        steady.append(tracker.update([Detection(box, 0.9)])[0].box)
    jitter = lambda boxes: np.abs(np.diff(np.array(boxes)[10:], axis=0)).mean()  # noqa: E731
    assert jitter(steady) < 0.7 * jitter(raw)
    for _ in range(8):  # the number moved 30 px: the box gets there within a few frames
        (d,) = tracker.update([Detection(Box(230, 150, 120, 60), 0.9)])
    assert d.box.left == pytest.approx(230, abs=1)


def test_two_numbers_keep_their_own_boxes_and_a_lost_one_is_dropped():
    tracker = BoxTracker()
    a, b = Box(10, 10, 50, 20), Box(300, 200, 80, 40)
    tracker.update([Detection(a, 0.9), Detection(b, 0.8)])
    moved = tracker.update([Detection(Box(300, 204, 80, 40), 0.95), Detection(Box(12, 10, 50, 20), 0.7)])
    assert moved[0].score == 0.95 and moved[0].box.top == pytest.approx(202)  # matched to b, smoothed
    assert moved[1].box.left == pytest.approx(11)
    assert tracker.update([]) == [] and tracker.boxes == []  # a frame without a number keeps no ghost box
    (fresh,) = tracker.update([Detection(b, 0.6)])
    assert fresh.box == b  # starts where it was found, not blended with a forgotten box
