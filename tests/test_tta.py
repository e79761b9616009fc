"""Test-time views: the contract's views, the averaging, and a real model reading through them."""

import json

import numpy as np
import pytest

from edge_app.contract import INPUT_SIZE, TTA_VIEWS, ContractError, center_crop, crop_at, tta_views
from edge_app.decode import decode, rescore
from edge_app.tta import average_heads, read_region, view_probabilities, weighed_reading
from tests.conftest import ROOT, run_module


def test_views_start_with_the_centre_crop_and_stay_inside_the_region():
    region = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    views = tta_views(region, len(TTA_VIEWS))
    assert views.shape == (len(TTA_VIEWS), INPUT_SIZE, INPUT_SIZE, 3) and views.dtype == np.uint8
    assert np.array_equal(views[0], center_crop(region))
    assert np.array_equal(views[2], crop_at(region, 5, 2))  # a plain shift is a contract crop
    assert all(0 <= t and 0 <= left and t + s <= 64 and left + s <= 64 for t, left, s in TTA_VIEWS)
    assert len({v.tobytes() for v in views}) == len(TTA_VIEWS)
    for bad in (0, len(TTA_VIEWS) + 1):
        with pytest.raises(ContractError, match="test-time views"):
            tta_views(region, bad)


def test_average_heads_keeps_distributions():
    rng = np.random.default_rng(1)
    length = rng.dirichlet(np.ones(7), size=3)
    digits = rng.dirichlet(np.ones(11), size=(3, 5))
    mean_length, mean_digits = average_heads(length, digits)
    assert mean_length.shape == (7,) and mean_digits.shape == (5, 11)
    assert np.isclose(mean_length.sum(), 1) and np.allclose(mean_digits.sum(axis=1), 1)


def test_shipped_model_reads_through_views(svhn):
    from edge_app.interpreter import HouseNumberModel
    from train.cache import load_crops

    model = HouseNumberModel(ROOT / "models" / "house_numbers.tflite", threads=1)
    crops = load_crops(svhn / "recon" / "train")
    for region in crops.regions[:5]:
        assert read_region(model.probabilities, region, 1) == model.read(center_crop(region))
        length, digits = view_probabilities(model.probabilities, region, 3)
        one = [model.probabilities(v) for v in tta_views(region, 3)]
        assert np.allclose(length, np.mean([o[0] for o in one], axis=0))


def test_rescore_gives_a_reading_the_confidence_decode_would():
    rng = np.random.default_rng(2)
    for _ in range(20):
        length, digits = rng.dirichlet(np.ones(7)), rng.dirichlet(np.ones(11), size=5)
        best = decode(length, digits)
        assert rescore(length, digits, best).confidence == pytest.approx(best.confidence)
        other = decode(*average_heads(rng.dirichlet(np.ones(7), size=2), rng.dirichlet(np.ones(11), size=(2, 5))))
        again = rescore(length, digits, other)  # decode's reading is the most probable one: others score less
        assert again.text == other.text and again.confidence <= best.confidence + 1e-12


def test_weighed_reading_reads_the_centre_and_lets_all_views_weigh_it(svhn):
    from edge_app.interpreter import HouseNumberModel
    from train.cache import load_crops

    model = HouseNumberModel(ROOT / "models" / "house_numbers.tflite", threads=1)
    regions = load_crops(svhn / "recon" / "train").regions[:12]
    for region in regions:
        assert weighed_reading(model.probabilities, [region], 1) == model.read(center_crop(region))
        weighed = weighed_reading(model.probabilities, [region], 3)
        assert weighed.text == model.read(center_crop(region)).text
        assert weighed == rescore(*view_probabilities(model.probabilities, region, 3), weighed)
        if weighed.confidence > 0.5:  # then it is the averaged heads' reading too, and no more confident
            averaged = read_region(model.probabilities, region, 3)
            assert weighed.text == averaged.text and weighed.confidence == pytest.approx(averaged.confidence)
    two = weighed_reading(model.probabilities, list(regions[:2]), 3)  # several regions: their centres averaged
    centres = [model.probabilities(center_crop(r)) for r in regions[:2]]
    assert two.text == decode(*average_heads(np.stack([c[0] for c in centres]), np.stack([c[1] for c in centres]))).text


def test_bench_reports_accuracy_and_ms_on_validation_data_only(svhn, tmp_path):
    out = tmp_path / "tta.json"
    proc = run_module("train.tta_bench", "--model", ROOT / "models" / "house_numbers.tflite", "--data",
                      svhn / "recon" / "train", "--val-fraction", "0.05", "--views", "1,2", "--json", out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["count"] == {"recon/train": 25} and set(report["ms"]) == {"1", "2"}
    proc = run_module("train.tta_bench", "--model", ROOT / "models" / "house_numbers.tflite", "--data",
                      svhn / "recon" / "test", "--views", "1")
    assert proc.returncode == 2 and "test split" in proc.stderr and "Traceback" not in proc.stderr
