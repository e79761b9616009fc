"""Detector decoding on made-up quantised outputs: peaks, boxes, NMS and the mapping to frame pixels."""

import numpy as np
import pytest

from edge_app.contract import Box, detector_window
from edge_app.inference.detector import (
    Detection,
    decode_detections,
    iou,
    local_peaks,
    nms,
    zoom_out_window,
    zoom_window,
)
from edge_app.inference.runtime import dequantize

GH, GW = 18, 24  # a 192x144 input at stride 8
FRAME = (640, 480)


def _outputs(numbers, zero_point=0):
    """uint8 heatmap (GH, GW, 1) and box (GH, GW, 4) with a Gaussian peak per (cx, cy, w, h) in input fractions."""
    heat = np.zeros((GH, GW), np.float64)
    box = np.zeros((GH, GW, 4), np.float64)
    rows, cols = np.mgrid[0:GH, 0:GW]
    for cx, cy, w, h, peak in numbers:
        gx, gy = cx * GW, cy * GH  # centre in grid cells
        r, c = int(gy), int(gx)
        heat = np.maximum(heat, 0.8 * peak * np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / 2.0))
        heat[r, c] = peak  # the centre's own cell is the peak
        box[r, c] = (gx - c, gy - r, w, h)
    scale = 1 / 256
    q = lambda x: np.clip(np.round(x / scale + zero_point), 0, 255).astype(np.uint8)  # noqa: E731
    detail = {"quantization": (scale, zero_point)}
    return dequantize(q(heat)[..., None], detail), dequantize(q(box), detail)


def test_two_numbers_are_found_where_they_are_in_frame_pixels():
    heat, box = _outputs([(0.25, 0.30, 0.10, 0.08, 0.9), (0.70, 0.75, 0.20, 0.15, 0.6)])
    found = decode_detections(heat, box, FRAME, threshold=0.3)
    assert len(found) == 2 and found[0].score > found[1].score
    a, b = found
    assert a.score == pytest.approx(0.9, abs=0.01) and b.score == pytest.approx(0.6, abs=0.01)
    # centre (0.25, 0.30) of 640x480 = (160, 144), size 64x38.4
    assert a.box == pytest.approx(Box(160 - 32, 144 - 19.2, 64, 38.4), abs=2.0)
    assert b.box == pytest.approx(Box(448 - 64, 360 - 36, 128, 72), abs=2.0)


def test_nothing_above_the_threshold_finds_nothing():
    heat, box = _outputs([(0.5, 0.5, 0.1, 0.1, 0.4)])
    assert decode_detections(heat, box, FRAME, threshold=0.5) == []
    assert decode_detections(np.zeros((GH, GW, 1)), np.zeros((GH, GW, 4)), FRAME, threshold=0.1) == []


def test_dequantising_widens_before_the_zero_point():
    """With zero point 128 a uint8 subtraction would wrap (100 - 128 = 228) and make every cell a peak."""
    heat, box = _outputs([(0.5, 0.5, 0.1, 0.1, 0.45)], zero_point=128)
    assert heat.min() >= -0.51 and heat.max() <= 0.5
    assert len(decode_detections(heat, box, FRAME, threshold=0.3)) == 1


def test_a_flat_peak_gives_one_box_after_nms():
    heat = np.zeros((GH, GW, 1))
    heat[5, 5:7] = 0.8  # quantisation often leaves two equal neighbours at the top
    box = np.zeros((GH, GW, 4))
    box[5, 5] = (0.9, 0.5, 0.2, 0.2)
    box[5, 6] = (0.1, 0.5, 0.2, 0.2)  # both cells point at the same centre
    rows, cols = local_peaks(heat[..., 0], 0.5)
    assert len(rows) == 2
    assert len(decode_detections(heat, box, FRAME, threshold=0.5)) == 1


def test_peak_on_the_border_and_frames_of_another_aspect():
    heat, box = _outputs([(0.01, 0.02, 0.05, 0.1, 0.7)])
    (d,) = decode_detections(heat, box, (1280, 720), threshold=0.5)
    assert d.box.left + d.box.width / 2 == pytest.approx(0.01 * 1280, abs=4) and d.box.height == pytest.approx(
        72, abs=2
    )


def test_nms_and_iou():
    a = Detection(Box(0, 0, 10, 10), 0.9)
    b = Detection(Box(1, 1, 10, 10), 0.8)
    c = Detection(Box(30, 30, 10, 10), 0.5)
    assert iou(a.box, a.box) == 1 and iou(a.box, c.box) == 0
    assert iou(a.box, b.box) == pytest.approx(81 / 119)
    assert nms([c, b, a]) == [a, c]


def test_a_box_read_as_no_number_does_not_hide_a_number_in_the_other_box():
    from edge_app.decode import Reading
    from edge_app.detect import Found, most_confident

    def found(text, confidence):
        return Found(Reading(text, len(text), confidence, ()), Box(0, 0, 1, 1), Detection(Box(0, 0, 1, 1), 0.9))

    sign, number, other = found("", 0.99), found("42", 0.7), found("7", 0.6)
    assert most_confident([sign, number, other]) is number
    assert most_confident([sign]) is sign  # nothing to read: the app gates it out (length 0)
    assert most_confident([]) is None


INPUT = (192, 144)


@pytest.mark.parametrize("box", [Box(300, 200, 60, 40), Box(5, 440, 30, 30), Box(600, 0, 50, 20)])
def test_a_second_look_window_is_3x_the_box_in_the_detector_aspect_inside_the_frame(box):
    x0, y0, x1, y1 = zoom_window(box, FRAME, INPUT)
    w, h = x1 - x0, y1 - y0
    assert 0 <= x0 and 0 <= y0 and x1 <= FRAME[0] and y1 <= FRAME[1]
    assert w / h == pytest.approx(192 / 144, abs=0.02) and w >= 192 and h >= 144  # never upscaled
    assert h == pytest.approx(max(3 * box.height, 3 * box.width * 0.75, 144), abs=1)
    inside = x0 <= box.left and y0 <= box.top and box.left + box.width <= x1 and box.top + box.height <= y1
    assert inside or box.left + box.width > FRAME[0]  # the box itself is in view (unless it runs off the frame)


def test_a_box_whose_window_is_the_whole_frame_gets_no_second_look():
    assert zoom_window(Box(200, 150, 200, 170), FRAME, INPUT) is None  # 3x is more than the frame
    assert zoom_window(Box(10, 10, 40, 30), INPUT, INPUT) is None  # a frame the size of the input
    x0, y0, x1, y1 = zoom_window(Box(600, 300, 300, 260), (1280, 720), INPUT)  # 16:9: as tall as the frame at most
    assert (y0, y1) == (0, 720) and x1 - x0 == 960


def test_a_close_up_is_looked_at_from_further_away():
    """A box over 40% of its look's height (past the 5-40% of the frame the detector trained on) gets a window
    3x its size in the detector's aspect, running off the frame; a box that fits a look gets none."""
    w = zoom_out_window(Box(170, 60, 300, 300), FRAME, INPUT)  # 62% of a 640x480 frame
    assert (w.width, w.height) == pytest.approx((1200, 900))
    assert (w.left + w.width / 2, w.top + w.height / 2) == pytest.approx((320, 210))  # around the box
    assert zoom_out_window(Box(200, 150, 200, 170), FRAME, INPUT) is None  # 35%: the first look's box stands
    assert zoom_out_window(Box(300, 200, 60, 40), FRAME, INPUT) is None  # small: a window inside the frame
    # 16:9: a look inside the frame is at most 720 high, and a 300-high box fills 42% of it
    assert zoom_out_window(Box(600, 200, 200, 300), (1280, 720), INPUT) is not None
    assert zoom_out_window(Box(600, 200, 200, 250), (1280, 720), INPUT) is None


def test_a_window_past_the_frame_shrinks_the_frame_and_repeats_its_edges():
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:, :320] = (200, 0, 0)
    frame[:, 320:] = (0, 0, 200)
    frame[:14] = (0, 200, 0)  # a top band, two rows once shrunk
    pixels = detector_window(frame, Box(-320, -240, 1280, 960))  # twice the frame, around it: the frame is 96x72
    assert pixels.shape == (144, 192, 3) and pixels.dtype == np.uint8
    assert (pixels[:37, 60] == (0, 200, 0)).all()  # above the frame: its top row again
    assert (pixels[60:, :47] == (200, 0, 0)).all() and (pixels[60:, 145:] == (0, 0, 200)).all()  # its sides
    assert (pixels[60:108, 50:90] == (200, 0, 0)).all() and (pixels[60:108, 100:142] == (0, 0, 200)).all()
    assert (pixels[108:, 50:90] == (200, 0, 0)).all()  # below: its bottom row again


def test_peaks_are_exactly_the_cells_no_neighbour_beats():
    """local_peaks against its definition, cell by cell, on random grids with ties and edges."""
    rng = np.random.default_rng(0)
    for i in range(300):
        h, w = int(rng.integers(1, GH + 1)), int(rng.integers(1, GW + 1))
        heat = rng.random((h, w)) if i % 2 else np.round(rng.random((h, w)) * 3) / 3  # plateaus: ties everywhere
        threshold = float(rng.random())
        want = [(r, c) for r in range(h) for c in range(w) if heat[r, c] >= threshold
                and heat[r, c] >= heat[max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2].max()]
        rows, cols = local_peaks(heat, threshold)
        assert list(zip(rows.tolist(), cols.tolist())) == want
