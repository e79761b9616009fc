"""Properties of the parsers and the contract's box arithmetic, over many generated inputs (hypothesis)."""

import argparse
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_app import cli
from edge_app.contract import (
    EXPAND,
    INPUT_SIZE,
    REGION_SIZE,
    Box,
    ContractError,
    crop_region,
    digit_region,
    expand_box,
    model_input,
    union_box,
)
from edge_app.regions import MAX_ROI, parse_roi, scan_windows
from edge_app.smoothing import Smoother, parse_smooth

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
floats = st.floats(allow_nan=True, allow_infinity=True)
texts = st.text(alphabet="0123456789.,/-+xXeEinfaoN ", max_size=24)


@FAST
@given(texts)
def test_parse_roi_gives_a_bounded_box_or_one_value_error(text):
    try:
        box = parse_roi(text)
    except ValueError as err:
        assert str(err).startswith("--roi ")
        return
    assert all(math.isfinite(v) for v in box) and box.width > 0 and box.height > 0
    assert max(abs(box.left), abs(box.top), box.width, box.height) <= MAX_ROI


@FAST
@given(st.tuples(floats, floats, floats, floats))
def test_parse_roi_accepts_exactly_the_finite_positive_bounded_regions(values):
    x, y, w, h = values
    ok = all(math.isfinite(v) for v in values) and w > 0 and h > 0 and max(abs(x), abs(y), w, h) <= MAX_ROI
    try:
        box = parse_roi(",".join(repr(v) for v in values))
    except ValueError:
        assert not ok
    else:
        assert ok and box == Box(x, y, w, h)


@FAST
@given(texts)
def test_frame_size_and_smoothing_parse_or_refuse(text):
    for parse, check in ((cli.frame_size, lambda v: all(1 <= s <= cli.MAX_PIXELS for s in v)),
                         (parse_smooth, lambda v: v is None or 1 <= v[0] <= v[1] <= 100)):
        try:
            value = parse(text)
        except argparse.ArgumentTypeError:
            continue
        assert check(value)


@FAST
@given(st.integers(-5, 120), st.integers(-5, 120))
def test_smoothing_round_trips_exactly_the_possible_votes(k, n):
    try:
        assert parse_smooth(f"{k}/{n}") == (k, n)
    except argparse.ArgumentTypeError:
        assert not 1 <= k <= n <= 100
    else:
        assert 1 <= k <= n <= 100


@FAST
@given(st.one_of(floats.map(repr), texts))
def test_thresholds_are_finite_probabilities(text):
    try:
        value = cli.probability(text)
    except argparse.ArgumentTypeError:
        return
    assert 0.0 <= value <= 1.0


boxes = st.builds(Box, st.floats(-500, 500), st.floats(-500, 500), st.floats(0.5, 400), st.floats(0.5, 400))


@FAST
@given(st.lists(boxes, min_size=1, max_size=6))
def test_union_holds_every_box_and_expansion_keeps_the_centre(bs):
    u = union_box(bs)
    for b in bs:
        assert u.left <= b.left and u.top <= b.top
        assert b.left + b.width <= u.left + u.width + 1e-9 and b.top + b.height <= u.top + u.height + 1e-9
    e = expand_box(u)
    assert math.isclose(e.width, u.width * (1 + EXPAND)) and math.isclose(e.height, u.height * (1 + EXPAND))
    assert math.isclose(e.left + e.width / 2, u.left + u.width / 2, abs_tol=1e-6)
    assert digit_region(bs) == e


@FAST
@given(st.builds(Box, floats, floats, floats, floats), st.integers(1, 80), st.integers(1, 80))
def test_any_region_crops_to_the_contract_or_gives_one_contract_error(box, w, h):
    frame = np.arange(w * h * 3, dtype=np.uint32).reshape(h, w, 3).astype(np.uint8)
    try:
        region = crop_region(frame, box)
    except ContractError:
        return
    assert region.shape == (REGION_SIZE, REGION_SIZE, 3) and region.dtype == np.uint8
    assert model_input(frame, box).shape == (INPUT_SIZE, INPUT_SIZE, 3)


@FAST
@given(st.integers(8, 2000), st.integers(8, 2000))
def test_scan_windows_lie_inside_the_frame(w, h):
    for b in scan_windows(w, h):
        assert b.left >= 0 and b.top >= 0 and b.width > 0 and b.height > 0
        assert b.left + b.width <= w + 1e-6 and b.top + b.height <= h + 1e-6


@FAST
@given(st.integers(1, 5).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))),
       st.lists(st.sampled_from(["1", "2", None]), max_size=40))
def test_smoother_reports_only_winners_and_never_twice_in_a_row(kn, frames):
    k, n = kn
    s, last = Smoother(k, n), None
    for i, text in enumerate(frames):
        out = s.update(text)
        if out is not None:
            assert out == text and frames[max(0, i - n + 1): i + 1].count(text) >= k and out != last
            last = out


@FAST
@given(st.integers(0, 255), st.floats(0.01, 4.0), st.integers(-128, 127))
def test_quantize_input_follows_its_formula(pixel, scale, zero):
    from edge_app.interpreter import quantize_input

    pixels = np.full((2, 2, 3), pixel, np.uint8)
    assert np.array_equal(quantize_input(pixels, {"dtype": np.uint8, "quantization": (1.0, 0)}), pixels)
    q = quantize_input(pixels, {"dtype": np.int8, "quantization": (scale, zero)})
    assert q.dtype == np.int8 and int(q[0, 0, 0]) == int(np.clip(np.round(pixel / scale + zero), -128, 127))
    assert quantize_input(pixels, {"dtype": np.float32, "quantization": (0.0, 0)}).dtype == np.float32


@FAST
@given(st.integers(0, 255), st.integers(0, 255), st.floats(1e-4, 1.0))
def test_dequantize_widens_before_subtracting_the_zero_point(q, zero, scale):
    from edge_app.interpreter import dequantize

    value = dequantize(np.array([q], np.uint8), {"quantization": (scale, zero)})[0]
    assert math.isclose(value, scale * (q - zero), rel_tol=1e-9, abs_tol=1e-12)  # 100 - 128 is -28, not 228
