"""The input contract on real SVHN pictures: box arithmetic, edge padding, label coding, decode."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from edge_app.annotations import read_annotations
from edge_app.contract import (
    Box,
    ContractError,
    center_crop,
    crop_region,
    digit_region,
    encode_label,
    expand_box,
    label_text,
    load_image,
    model_input,
    random_crop,
    svhn_digit,
    union_box,
)
from edge_app.decode import decode, decode_batch


def test_union_and_expand_on_official_sample(svhn):
    # format1_samples/test/2.png is "210": three boxes side by side.
    a = {x.name: x for x in read_annotations(svhn / "format1_samples" / "test")}["2.png"]
    assert a.digits == (2, 1, 0)
    u = union_box(a.boxes)
    assert u == Box(99.0, 5.0, 34.0, 26.0)  # left 99..133, top 5..31 from the three boxes
    e = expand_box(u)
    assert e.width == pytest.approx(34 * 1.3) and e.height == pytest.approx(26 * 1.3)
    assert e.left + e.width / 2 == pytest.approx(u.left + u.width / 2)  # grown about the centre
    assert e.top + e.height / 2 == pytest.approx(u.top + u.height / 2)


def test_region_matches_manual_crop_inside_picture(svhn):
    folder = svhn / "format1_samples" / "test"
    a = {x.name: x for x in read_annotations(folder)}["2.png"]
    image = load_image(folder / "2.png")
    region = digit_region(a.boxes)
    out = crop_region(image, region)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    x0, y0 = round(region.left), round(region.top)
    x1, y1 = round(region.left + region.width), round(region.top + region.height)
    manual = np.asarray(Image.fromarray(image[y0:y1, x0:x1]).resize((64, 64), Image.BILINEAR))
    assert np.array_equal(out, manual)


def test_edge_replication_at_picture_border(svhn):
    image = load_image(svhn / "format1_samples" / "train" / "1.png")
    h, w = image.shape[:2]
    # A region hanging 20 px off the top-left corner: the missing rows/cols repeat the border pixels.
    out = crop_region(image, Box(-20, -20, 60, 60), size=60)
    assert np.array_equal(out[:21, 21], np.repeat(image[0:1, 1], 21, axis=0))  # rows above = row 0
    assert np.array_equal(out[21, :21], np.repeat(image[1:2, 0], 21, axis=0))  # cols left = col 0
    assert np.array_equal(out[20:, 20:], image[:40, :40])
    # and off the bottom-right corner
    out = crop_region(image, Box(w - 10, h - 10, 30, 30), size=30)
    assert np.array_equal(out[9:, 9], np.repeat(image[h - 1 : h, w - 1], 21, axis=0))


def test_region_entirely_outside_is_refused(svhn):
    image = load_image(svhn / "format1_samples" / "test" / "1.png")
    with pytest.raises(ContractError, match="outside"):
        crop_region(image, Box(image.shape[1] + 5, 0, 10, 10))
    with pytest.raises(ContractError, match="empty"):
        crop_region(image, Box(0, 0, 0.2, 10))


def test_centre_and_random_crop():
    region = np.arange(64 * 64 * 3, dtype=np.int64).reshape(64, 64, 3)
    assert np.array_equal(center_crop(region), region[5:59, 5:59])
    a = random_crop(region, np.random.default_rng(3))
    b = random_crop(region, np.random.default_rng(3))
    assert a.shape == (54, 54, 3) and np.array_equal(a, b)
    offsets = {tuple(random_crop(region, np.random.default_rng(s))[0, 0, :1]) for s in range(30)}
    assert len(offsets) > 5  # really random across seeds


def test_model_input_is_region_then_centre_crop(svhn):
    folder = svhn / "recon" / "test"
    a = read_annotations(folder)[0]
    image = load_image(folder / a.name)
    x = model_input(image, digit_region(a.boxes))
    assert x.shape == (54, 54, 3) and x.dtype == np.uint8
    assert np.array_equal(x, center_crop(crop_region(image, digit_region(a.boxes))))


def test_label_coding_and_svhn_ten_is_zero():
    assert svhn_digit(10) == 0 and svhn_digit(3) == 3
    with pytest.raises(ContractError):
        svhn_digit(11)
    assert encode_label([2, 1, 0]).tolist() == [3, 2, 1, 0, 10, 10]
    assert encode_label([]).tolist() == [0, 10, 10, 10, 10, 10]
    assert encode_label([1, 2, 3, 4, 5, 6]).tolist() == [6, 1, 2, 3, 4, 5]  # more than 5 -> class 6
    assert label_text(encode_label([2, 1, 0])) == "210"


def test_label_ten_in_official_file_reads_as_zero(svhn):
    # test/2.png's third box carries SVHN label 10 in digitStruct.mat.
    a = read_annotations(svhn / "format1_samples" / "test")[1]
    assert a.name == "2.png" and a.digits[-1] == 0


def test_corrupt_picture_is_a_contract_error(tmp_path, svhn):
    data = (svhn / "format1_samples" / "test" / "1.png").read_bytes()
    bad = tmp_path / "bad.png"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ContractError, match="bad.png"):
        load_image(bad)


def _probs(length, digits):
    lp = np.full(7, 0.01)
    lp[length] = 1
    dp = np.full((5, 11), 0.01)
    for i, d in enumerate(digits):
        dp[i, d] = 1
    return lp / lp.sum(), dp / dp.sum(axis=1, keepdims=True)


def test_joint_decode_picks_length_with_its_digits():
    r = decode(*_probs(3, [2, 1, 0, 10, 10]))
    assert r.text == "210" and r.length == 3 and len(r.digit_confidences) == 3
    assert 0 < r.confidence <= 1
    # An uncertain third digit pulls the joint score of length 3 below length 2.
    lp = np.array([0.0, 0.0, 0.45, 0.55, 0, 0, 0]) + 1e-6
    dp = np.full((5, 11), 1e-6)
    dp[0, 4], dp[1, 7] = 1, 1
    dp[2, :10] = 0.1
    r = decode(lp, dp)
    assert r.text == "47"
    assert r.confidence == pytest.approx(0.45, rel=1e-3)


def test_decode_batch_matches_single():
    rng = np.random.default_rng(0)
    lp = rng.dirichlet(np.ones(7), size=20)
    dp = rng.dirichlet(np.ones(11), size=(20, 5))
    lengths, digits, conf, _ = decode_batch(lp, dp)
    for i in range(20):
        r = decode(lp[i], dp[i])
        assert r.length == lengths[i] and r.confidence == pytest.approx(conf[i])
        assert r.text == "".join(map(str, digits[i, : lengths[i]]))


def test_a_confident_no_number_is_never_covered_by_the_gate():
    """The app reports readings of length > 0 only: a sure "no number" must not count as a confident mistake."""
    from train.metrics import judge, score

    reads = [_probs(2, [4, 7, 10, 10, 10]), _probs(0, [10] * 5), _probs(1, [3, 10, 10, 10, 10])]
    lp, dp = np.stack([r[0] for r in reads]), np.stack([r[1] for r in reads])
    targets = np.array([[2, 4, 7, 10, 10, 10], [2, 5, 1, 10, 10, 10], [1, 3, 10, 10, 10, 10]])
    judged = judge(lp, dp, targets)
    assert judged.correct.tolist() == [True, False, True] and judged.confidence[1] == 0.0
    assert score(lp, dp, targets)["coverage_at_98"] == pytest.approx(2 / 3)


def test_device_side_imports_without_tensorflow():
    code = ("import sys; sys.modules['tensorflow'] = None; sys.modules['keras'] = None; "
            "import edge_app, edge_app.contract, edge_app.decode, edge_app.interpreter, edge_app.inference.card, "
            "edge_app.inference.runtime, edge_app.inference.reader, edge_app.inference.detector, edge_app.app, "
            "edge_app.sources, edge_app.outputs, edge_app.bench; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
