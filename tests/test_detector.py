"""The number detector: targets, a tiny real run through the train CLI, calibration and int8 export, mix-ups refused."""

import json
import shutil

import numpy as np
import pytest

from edge_app.contract import DETECTOR_HEIGHT, DETECTOR_WIDTH, Box
from edge_app.inference.detector import decode_detections
from tests.conftest import run_main, run_module
from train.detection_metrics import iou_matrix
from train.scene_data import encode
from train.synth.scenes import SceneSpec
from train.synth.scenes_write import write_scenes


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    """48 training frames at the detector's own size."""
    return write_scenes(
        tmp_path_factory.mktemp("det") / "scenes",
        48,
        seed=11,
        spec=SceneSpec(size=(192, 144)),
        workers=1,
        progress=False,
    )


@pytest.fixture(scope="module")
def det_run(tmp_path_factory, scenes):
    out = tmp_path_factory.mktemp("det_runs") / "run"
    proc = run_main(
        "train",
        "--data",
        scenes,
        "--arch",
        "detector",
        "--out",
        out,
        "--steps",
        "6",
        "--batch-size",
        "8",
        "--eval-every",
        "3",
        "--checkpoint-every",
        "3",
        "--val-fraction",
        "0.25",
        "--warmup-steps",
        "2",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def det_calib(tmp_path_factory, scenes):
    out = tmp_path_factory.mktemp("det_calib") / "calib.npz"
    proc = run_module("calibration", "--kind", "detector", "--data", scenes, "--count", "16", "--out", out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def det_export(tmp_path_factory, det_run, det_calib, scenes):
    out = tmp_path_factory.mktemp("det_export")
    proc = run_main(
        "export",
        "--model",
        det_run / "model.keras",
        "--calibration",
        det_calib,
        "--out",
        out,
        "--name",
        "number_detector",
        "--eval-data",
        scenes,
        "--eval-limit",
        "12",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def test_targets_decode_back_to_their_boxes():
    boxes = [Box(20.3, 30.1, 40.0, 22.0), Box(130.0, 90.5, 17.0, 30.0)]
    heat, box = encode(boxes)
    assert heat.shape == (18, 24, 1) and box.shape == (18, 24, 5)
    assert heat.max() == 1.0 and (heat == 1.0).sum() == 2 and box[..., 4].sum() == 2
    found = decode_detections(heat, box[..., :4], (DETECTOR_WIDTH, DETECTOR_HEIGHT), 0.5)  # the app's decoding
    assert len(found) == 2
    ious = iou_matrix([b for b, _ in found], boxes)
    assert ious.max(axis=0).min() > 0.99


def test_targets_of_a_batch_are_each_frames_own(scenes):
    """encode_all pads frames to the most numbers in the batch: empty, one- and two-number frames together must
    get exactly the targets each gets alone."""
    from train.scene_data import encode_all, load_frames

    _, boxes, _ = load_frames(scenes)
    assert {len(b) for b in boxes} >= {0, 1}
    boxes = boxes + [[Box(20.3, 30.1, 40.0, 22.0), Box(130.0, 90.5, 17.0, 30.0)]]  # and a two-number frame
    heat, box = encode_all(boxes)
    for i, numbers in enumerate(boxes):
        one_heat, one_box = encode(numbers)
        np.testing.assert_array_equal(heat[i], one_heat)
        np.testing.assert_array_equal(box[i], one_box)
        assert box[i, ..., 4].sum() == len({(int(b.top + b.height / 2) // 8, int(b.left + b.width / 2) // 8)
                                            for b in numbers})


def test_tiny_detector_run_writes_its_artifacts(det_run):
    metrics = json.loads((det_run / "metrics.json").read_text())
    assert metrics["arch"] == "detector" and metrics["metric"] == "ap50" and metrics["steps"] == 6
    assert [h["step"] for h in metrics["history"]] == [3, 6] and 0 <= metrics["best_val_ap50"] <= 1
    assert (det_run / "training_curve.png").is_file() and (det_run / "model.keras").is_file()


def test_an_interrupted_detector_run_resumes_and_can_be_lengthened(det_run, tmp_path):
    # Its losses are plain functions: the checkpoint must load them back by name (it once called them corrupt).
    run = tmp_path / "run"
    shutil.copytree(det_run, run)
    (run / "metrics.json").unlink()  # as if stopped after its last checkpoint
    proc = run_main("train", "--out", run, "--resume", "--steps", "8")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "6/8" in proc.stderr and "unreadable" not in proc.stderr
    assert json.loads((run / "metrics.json").read_text())["steps"] == 8


def test_int8_detector_takes_uint8_frames_and_passes_the_edgetpu_op_check(det_export):
    from ai_edge_litert.interpreter import Interpreter

    path = det_export / "number_detector.tflite"
    interpreter = Interpreter(model_path=str(path))
    inp = interpreter.get_input_details()[0]
    assert inp["dtype"] == np.uint8 and list(inp["shape"]) == [1, 144, 192, 3] and inp["quantization"] == (1.0, 0)
    assert all(o["dtype"] == np.uint8 for o in interpreter.get_output_details())
    card = json.loads((det_export / "number_detector.json").read_text())
    assert card["kind"] == "detector" and set(card["outputs"]) == {"heatmap", "box"}
    assert card["outputs"]["heatmap"]["shape"] == [1, 18, 24, 1] and card["outputs"]["box"]["shape"] == [1, 18, 24, 4]
    assert card["preprocessing"]["input_size"] == [192, 144] and card["preprocessing"]["stride"] == 8
    assert card["edgetpu"]["unsupported_ops"] == []
    assert "validation scenes" in card["gate"]["basis"] and 0 < card["gate"]["threshold"] < 1
    assert path.stat().st_size < 1_000_000
    report = json.loads((det_export / "report.json").read_text())
    assert report["count"] == 12 and set(report["variants"]["int8"]["eval"]) >= {"recall", "precision", "mean_iou"}


def test_mixups_are_refused_with_one_line(tmp_path, scenes, synth, det_run, det_calib, tiny_run, svhn):
    refusals = [
        (("train", "--data", scenes, "--arch", "edge", "--out", tmp_path / "r1", "--steps", "2"), "--arch detector"),
        (("train", "--data", synth, "--arch", "detector", "--out", tmp_path / "r2", "--steps", "2"), "scenes.json"),
        (("calibration", "--data", scenes, "--count", "4", "--out", tmp_path / "c1.npz"), "--kind detector"),
        (
            ("calibration", "--kind", "detector", "--data", synth, "--count", "4", "--out", tmp_path / "c2.npz"),
            "scenes.json",
        ),
        (
            ("export", "--model", tiny_run / "model.keras", "--calibration", det_calib, "--out", tmp_path / "e1"),
            "calibrates a detector",
        ),
    ]
    for args, says in refusals:
        proc = run_module(*args)
        assert proc.returncode == 2, (args, proc.stderr[-500:])
        assert says in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-500:]
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_zoom_keeps_every_number_whole_and_moves_its_box_with_the_pixels(scenes):
    """train.portable's zoom (scene_data.zoom_in) on real generated frames: the pixels inside each moved box are
    the pixels of the original box, scaled; boxes never leave the frame; far-apart numbers leave the frame as is."""
    from PIL import Image

    from train.scene_data import load_frames, zoom_in

    frames, boxes, _ = load_frames(scenes)
    rng = np.random.default_rng(0)
    zoomed = 0
    for frame, numbers in zip(frames, boxes):
        out, moved = zoom_in(frame, numbers, rng, most=1.4)
        assert out.shape == frame.shape and out.dtype == np.uint8 and len(moved) == len(numbers)
        for before, after in zip(numbers, moved):
            assert after.left >= -1e-6 and after.top >= -1e-6
            assert after.left + after.width <= DETECTOR_WIDTH + 1e-6
            assert after.top + after.height <= DETECTOR_HEIGHT + 1e-6
            if out is frame:
                continue
            zoomed += 1
            scale = after.width / before.width
            assert 1.0 <= scale <= 1.4 and after.height / before.height == pytest.approx(scale)
            size = (max(1, round(after.width)), max(1, round(after.height)))
            was = np.asarray(Image.fromarray(frame).resize(size, Image.BILINEAR, box=(
                before.left, before.top, before.left + before.width, before.top + before.height)), np.float32)
            x, y = round(after.left), round(after.top)
            now = out[y:y + size[1], x:x + size[0]].astype(np.float32)
            h, w = min(len(now), len(was)), min(now.shape[1], was.shape[1])
            assert np.abs(now[:h, :w] - was[:h, :w]).mean() < 12  # the same digits, not another part of the frame
    assert zoomed >= 10
    apart = [Box(2, 2, 20, 20), Box(DETECTOR_WIDTH - 22, DETECTOR_HEIGHT - 22, 20, 20)]
    first = frames[0]
    out, moved = zoom_in(first, apart, np.random.default_rng(1), most=1.4)
    assert out is first and moved == apart


def test_portable_detector_run_is_a_detector_run(tmp_path, scenes, monkeypatch):
    """`train.portable --arch detector` (the GPU path, here on Keras's TensorFlow backend): AP50 picks the model."""
    import keras

    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")  # train.portable's default is JAX, absent here
    out = tmp_path / "run"
    proc = run_main("train.portable", "--arch", "detector", "--data", scenes, "--out", out, "--steps", "4",
                    "--batch-size", "8", "--eval-every", "2", "--warmup-steps", "1", "--val-fraction", "0.25")
    assert proc.returncode == 0, proc.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "detector" and metrics["metric"] == "ap50" and metrics["steps_done"] == 4
    assert [h["step"] for h in metrics["history"]] == [2, 4] and 0 <= metrics["best_val_ap50"] <= 1
    model = keras.models.load_model(out / "model.keras", compile=False)
    outputs = model(np.zeros((1, DETECTOR_HEIGHT, DETECTOR_WIDTH, 3), np.uint8))
    assert outputs["heatmap"].shape == (1, 18, 24, 1) and outputs["box"].shape == (1, 18, 24, 4)


def test_the_shipped_detector_is_recovered_from_its_tflite_to_fine_tune(tmp_path, scenes):
    """`train.recover --arch detector`: the Keras detector rebuilt from the int8 export finds what the export finds."""
    import keras

    from edge_app.inference.detector import DEFAULT_DETECTOR, NumberDetector
    from train.scene_data import load_frames

    out = tmp_path / "shipped.keras"
    proc = run_main("train.recover", "--arch", "detector", "--tflite", DEFAULT_DETECTOR, "--data", scenes,
                    "--count", "48", "--out", out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    frames = load_frames(scenes)[0]
    heat = keras.models.load_model(out, compile=False).predict(frames, verbose=0)["heatmap"][..., 0]
    exported = NumberDetector(DEFAULT_DETECTOR, threads=1)
    int8 = np.stack([exported.run(f)["heatmap"][..., 0] for f in frames])
    # int8 weights and activations against float: the same cells light up, within a few quantisation steps
    assert np.abs(heat - int8).mean() < 0.01 and np.abs(heat - int8).max() < 0.15
    assert np.mean((heat > 0.5) != (int8 > 0.5)) < 0.002
