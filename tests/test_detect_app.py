"""--detect wired end to end: refusals, lores, events, bench, with a real (tiny, untrained) int8 detector.

The detector is a small Keras network with the detector's named outputs, converted by TF Lite to full
int8 with uint8 in and out, with its card written by edge_app's card module; the app runs it in a
subprocess with TensorFlow blocked. Untrained, it finds boxes anywhere: these tests check the bad input
and the timing path with it. The wiring (box -> contract region -> reader -> event) is checked with the
shipped detector, whose box lands on the number: the shipped reader reads "no number" where there is none.
"""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from edge_app.contract import load_image
from tests.conftest import ROOT
from tests.test_edge_app import FAKES, SHIPPED, app, events

SHIPPED_DETECTOR = ROOT / "models" / "number_detector.tflite"


@pytest.fixture(scope="session")
def tiny_detector(tmp_path_factory):
    """A 144x192 uint8-in, stride-8 heatmap/box-out int8 .tflite and its card (kind detector)."""
    import keras
    import tensorflow as tf

    from edge_app.inference.card import Gate, ModelCard, Tensor

    keras.utils.set_random_seed(0)
    x = keras.Input((144, 192, 3), batch_size=1, dtype="float32")
    y = keras.layers.Rescaling(1 / 255)(x)
    for filters in (8, 16, 16):
        y = keras.layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(y)
    model = keras.Model(
        x,
        {
            "heatmap": keras.layers.Conv2D(1, 1, activation="sigmoid", name="heatmap")(y),
            "box": keras.layers.Conv2D(4, 1, activation="sigmoid", name="box")(y),
        },
    )
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(0)
    converter.representative_dataset = lambda: (
        [rng.integers(0, 256, (1, 144, 192, 3)).astype(np.float32)] for _ in range(8)
    )
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.uint8
    path = tmp_path_factory.mktemp("detector") / "number_detector.tflite"
    path.write_bytes(converter.convert())
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    outputs = {
        ("heatmap" if d["shape"][-1] == 1 else "box"): Tensor.from_detail(d) for d in interpreter.get_output_details()
    }
    ModelCard(
        kind="detector",
        file=path.name,
        variant="int8",
        input=Tensor.from_detail(interpreter.get_input_details()[0]),
        outputs=outputs,
        gate=Gate(None, "untrained test network: no threshold measured"),
        training={"licence": "random weights, no data"},
    ).write(path.with_suffix(".json"))
    return path


@pytest.fixture(scope="module")
def frame_file(svhn, tmp_path_factory):
    """A 640x480 frame with a real SVHN test number pasted in."""
    number = load_image(svhn / "recon" / "test" / "2.png")
    frame = np.full((480, 640, 3), 110, np.uint8)
    frame[150 : 150 + number.shape[0], 250 : 250 + number.shape[1]] = number
    path = tmp_path_factory.mktemp("frames") / "frame.png"
    Image.fromarray(frame).save(path)
    return path


def test_detected_box_goes_through_the_contract_into_the_event(frame_file, tmp_path):
    out = tmp_path / "r.jsonl"
    proc = app("--source", frame_file, "--detector", SHIPPED_DETECTOR, "--box-threshold", "0", "--threshold", "0",
               "--jsonl", out, "--annotate", tmp_path / "a")
    assert proc.returncode == 0, proc.stderr
    (e,) = events(out)
    x, y, w, h = e["box"]
    rx, ry, rw, rh = e["roi"]
    assert 0 < e["box_confidence"] <= 1 and w > 0 and h > 0
    assert rw == pytest.approx(1.3 * w, abs=2) and rh == pytest.approx(1.3 * h, abs=2)  # grown 30% ...
    assert rx + rw / 2 == pytest.approx(x + w / 2, abs=2)  # ... about its centre
    assert ry + rh / 2 == pytest.approx(y + h / 2, abs=2)
    assert e["model"] == SHIPPED.name and len(list((tmp_path / "a").iterdir())) == 1


def test_tta_reads_each_detected_box_through_its_views(frame_file, tmp_path):
    """--tta with --detect: the centre view of each box's region reads, and the contract's test-time views,
    heads averaged, give that reading its confidence (tta.weighed_reading; --tta was once silently ignored here)."""
    from edge_app.contract import crop_region, tta_views
    from edge_app.decode import decode, rescore
    from edge_app.detect import DetectAndRead
    from edge_app.inference.detector import NumberDetector
    from edge_app.inference.reader import HouseNumberModel
    from edge_app.regions import detection_region

    image, reader = load_image(frame_file), HouseNumberModel(SHIPPED)
    finder = DetectAndRead(NumberDetector(SHIPPED_DETECTOR), reader, 0.0, tta=3)
    box = finder.find(image)[0].box
    probs = [reader.probabilities(v) for v in tta_views(crop_region(image, detection_region(box)), 3)]
    by_hand = rescore(np.mean([p[0] for p in probs], axis=0), np.mean([p[1] for p in probs], axis=0),
                      decode(*probs[0]))
    assert finder.read(image, box) == by_hand
    finder.tta = 1
    assert finder.read(image, box).confidence != by_hand.confidence  # one view is not three
    out = tmp_path / "r.jsonl"
    proc = app("--source", frame_file, "--detector", SHIPPED_DETECTOR, "--tta", "3", "--box-threshold", "0",
               "--threshold", "0", "--jsonl", out)
    assert proc.returncode == 0, proc.stderr
    (e,) = events(out)
    assert (e["reading"], e["confidence"]) == (by_hand.text, round(by_hand.confidence, 4))


def test_a_detector_without_a_measured_threshold_needs_one(tiny_detector, frame_file):
    proc = app("--source", frame_file, "--detector", tiny_detector)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "no measured box score threshold (untrained test network" in proc.stderr and "--box-threshold" in proc.stderr


def test_picamera_lores_stream_feeds_the_detector(frame_file, tmp_path):
    np.save(tmp_path / "frames.npy", np.stack([load_image(frame_file)] * 5))
    out = tmp_path / "r.jsonl"
    proc = app("--source", "picamera", "--detector", SHIPPED_DETECTOR, "--box-threshold", "0", "--threshold", "0",
               "--smooth", "3/5", "--max-frames", "5", "--jsonl", out,
               env={"FAKE_PICAMERA_FRAMES": str(tmp_path / "frames.npy")})
    assert proc.returncode == 0, proc.stderr
    got = events(out)
    assert len(got) == 1 and got[0]["frame"] == 2 and got[0]["box"] is not None  # K-of-N: once, after 3 frames


def test_frame_smaller_than_the_detector_input_exits_2(tiny_detector, svhn):
    proc = app("--source", svhn / "recon" / "test" / "1.png", "--detector", tiny_detector, "--box-threshold", "0.5")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "smaller than the detector's 192x144 input" in proc.stderr


def test_detector_and_reader_are_refused_in_each_others_place(tiny_detector, frame_file):
    proc = app("--model", tiny_detector, "--source", frame_file)
    assert (
        proc.returncode == 2
        and proc.stderr.count("\n") == 1
        and "is a detector, but --model takes a reader" in proc.stderr
    )
    proc = app("--detector", SHIPPED, "--source", frame_file)
    assert (
        proc.returncode == 2
        and proc.stderr.count("\n") == 1
        and "is a reader, but --detector takes a detector" in proc.stderr
    )


def test_detector_card_of_another_version_exits_2(tiny_detector, frame_file, tmp_path):
    shutil.copy(tiny_detector, tmp_path / "d.tflite")
    card = json.loads(tiny_detector.with_suffix(".json").read_text())
    card["format"] = "house-numbers-model/3"
    (tmp_path / "d.json").write_text(json.dumps(card))
    proc = app("--detector", tmp_path / "d.tflite", "--source", frame_file, "--box-threshold", "0.5")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "house-numbers-model/3" in proc.stderr


def test_bench_reports_the_whole_detected_frame(tiny_detector, tmp_path):
    out = tmp_path / "bench.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FAKES / "blocked"), str(ROOT)])}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "edge_app.bench",
            "--detector",
            tiny_detector,
            "--box-threshold",
            "0.3",
            "--runs",
            "20",
            "--threads",
            "1",
            "--tta",
            "3",
            "--json",
            out,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(out.read_text())["results"]
    assert row["detected_frame"]["p50_ms"] > 0 and row["detector"]["p50_ms"] > 0
    assert row["looks"] == 2 and row["detected_frame_one_look"]["p50_ms"] > 0  # the default and the faster one look
    assert row["tta"] == 3
    assert 0 <= row["boxes_read_per_frame"] <= 2
