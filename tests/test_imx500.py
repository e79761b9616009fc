"""The Raspberry Pi AI Camera (IMX500): the shipped packerOut.zip and its card, the sensor's outputs decoded by the
detector's own code, and `--source imx500:...` end to end on the stand-in IMX500 with TensorFlow blocked.

The stand-in (tests/fakes/picamera2/devices) serves real dev-scene frames and, in each frame's metadata, the outputs
the MCT-quantized detector computed on them (tests/fixtures/imx500_detector.npz, written by export --target imx500
--fixture). The conversion itself runs only where the IMX500 toolchain's environment exists (.venv-imx500).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest

from edge_app.contract import Box
from edge_app.inference.detector import NumberDetector, decode_detections, iou
from edge_app.sources import SourceError, source_kind
from edge_app.sources.imx500_network import DEFAULT_CARD, SensorCard, SensorOutputs, outputs_by_role
from tests.conftest import ROOT, run_module
from tests.standins import IMX500_TOOLCHAIN, export_imx500, imx500_fixtures, imx500_network

FAKES = ROOT / "tests" / "fakes"
FIXTURE = ROOT / "tests" / "fixtures" / "imx500_detector.npz"
DETECTOR = ROOT / "models" / "number_detector.tflite"
REPEAT = 3  # frames a scene is held for: a live source reports a number once it was seen on a few frames


fixture, card = imx500_fixtures(FIXTURE, DEFAULT_CARD)


def stand_in_network(folder: Path, fixture: dict, card: SensorCard, order=None, **changes) -> Path:
    """The detector's stand-in network.rpk: the fixture's outputs, frames in `order`; `changes` as imx500_network."""
    order = list(range(len(fixture["frames"]))) if order is None else order
    return imx500_network(folder, card, {"heatmap": fixture["heatmap"][order], "box": fixture["box"][order]},
                          **changes)


def app(tmp_path: Path, fixture: dict, *args, env=None, order=None):
    """`python -m edge_app` with TensorFlow and Keras blocked and the stand-in picamera2 serving the fixture's frames
    (in `order`) at their own size."""
    frames = fixture["frames"] if order is None else fixture["frames"][order]
    np.save(tmp_path / "frames.npy", frames)
    args = ("--size", f"{frames.shape[2]}x{frames.shape[1]}", *args)
    full_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FAKES / "blocked"), str(FAKES), str(ROOT)]),
                "FAKE_PICAMERA_FRAMES": str(tmp_path / "frames.npy"), **(env or {})}
    return subprocess.run([sys.executable, "-m", "edge_app", *map(str, args)], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=120)


def sensor_boxes(fixture: dict, i: int, threshold: float) -> list:
    h, w = fixture["frames"].shape[1:3]
    return decode_detections(fixture["heatmap"][i], fixture["box"][i], (w, h), threshold)


# -- the shipped network and its card ----------------------------------------------------------------------------


def test_shipped_card_names_its_packer_output_and_the_converter_kept_its_outputs(card):
    zip_path = DEFAULT_CARD.parent / card.file
    import hashlib

    assert hashlib.sha256(zip_path.read_bytes()).hexdigest() == card.sha256
    with zipfile.ZipFile(zip_path) as z:
        params = ET.fromstring(z.read("dnnParams.xml"))
    inputs = params.findall(".//inputTensor")
    outputs = sorted(params.findall(".//outputTensor"), key=lambda t: int(t.get("ordinal")))
    dims = lambda t: [int(d.get("size")) for d in t.findall(".//dimension")]  # noqa: E731
    assert len(inputs) == 1 and dims(inputs[0]) == [card.input_size[1], card.input_size[0], 3]
    assert inputs[0].get("format") == "unsigned" and float(inputs[0].get("scale")) == 1.0  # raw pixels go in
    assert [dims(t) for t in outputs] == [o["shape"] for o in card.outputs]
    assert card.twin["sha256"] == json.loads(DETECTOR.with_suffix(".json").read_text())["sha256"]


def test_mct_quantized_recall_is_within_a_point_of_float(card):
    m = card.measured
    assert m["data"].endswith("dev_scenes") and m["frames"] >= 400 and m["iou"] == 0.5
    assert m["float"]["recall"] - m["mct"]["recall"] <= 0.01
    assert abs(m["recall_drop_points"] - (m["float"]["recall"] - m["mct"]["recall"]) * 100) < 0.01
    # the rebuilt float model found what the shipped .tflite found
    assert m["rebuilt_vs_tflite"]["tflite_recall"] == pytest.approx(m["float"]["recall"], abs=0.01)
    assert "non-commercial" in card.training["licence"]


# -- the sensor's outputs through the detector's own decoding ---------------------------------------------------


def test_outputs_by_role_follows_the_card_and_refuses_another_network(card, fixture):
    heat, box = fixture["heatmap"][0], fixture["box"][0]
    got = outputs_by_role([heat, box], card)
    np.testing.assert_array_equal(got["heatmap"], heat)
    np.testing.assert_array_equal(got["box"], box)
    assert outputs_by_role(None, card) is None  # the network is still loading
    with pytest.raises(SourceError, match=r"outputs \[\[18, 24, 4\], \[18, 24, 1\]\].*another model"):
        outputs_by_role([box, heat], card)
    with pytest.raises(SourceError, match="another model"):
        outputs_by_role([np.zeros(11), np.zeros(7)], card)


def test_detector_decodes_the_sensor_outputs_instead_of_running(card, fixture):
    detector = NumberDetector(DETECTOR, threads=1)
    frame = fixture["frames"][3]
    outputs = outputs_by_role([fixture["heatmap"][5], fixture["box"][5]], card)  # another frame's: must be used
    lores = SensorOutputs.of(outputs, card.input_size)
    got = detector.detect(frame, lores, 0.3)
    h, w = frame.shape[:2]
    assert got == decode_detections(outputs["heatmap"], outputs["box"], (w, h), 0.3) and got
    on_cpu = detector.detect(frame, None, 0.3)
    assert on_cpu and all(iou(a.box, b.box) < 0.1 for a in got for b in on_cpu)  # frame 3's number is elsewhere


def test_rebuilt_float_detector_matches_the_shipped_int8_one(fixture):
    """The weights export reads out of the int8 .tflite, in the project's own builder (Keras 3 here, tf.keras 2.15 in
    the toolchain): its outputs are the .tflite's up to the int8 activations' rounding."""
    pytest.importorskip("keras")
    from ai_edge_litert.interpreter import Interpreter

    from edge_app.contract import detector_input
    from export.imx500.weights import set_weights
    from train.models.detector import build_detector
    from train.tflite_weights import tflite_weights

    model = build_detector()
    set_weights(model, tflite_weights(DETECTOR, Interpreter), folded=True, source=DETECTOR)
    inputs = np.stack([detector_input(f) for f in fixture["frames"]])
    ours = model.predict(inputs, verbose=0)
    tflite = NumberDetector(DETECTOR, threads=1)
    for i, x in enumerate(inputs):
        want = tflite.run(x)
        assert np.abs(ours["heatmap"][i] - want["heatmap"]).mean() < 0.005
        assert np.abs(ours["box"][i] - want["box"]).mean() < 0.02


# -- the app on the stand-in AI Camera, TensorFlow blocked ---------------------------------------------------------


def test_detect_mode_reads_the_boxes_the_sensor_found(tmp_path, fixture, card):
    """Each scene held for REPEAT frames but served with another scene's sensor outputs (reversed): the app's boxes
    follow the sensor, not the picture, so the detector did not run on the CPU for its first look."""
    n = len(fixture["frames"])
    scenes = [i for i in range(n) for _ in range(REPEAT)]
    rpk = stand_in_network(tmp_path, fixture, card, order=[n - 1 - i for i in scenes])
    out = tmp_path / "r.jsonl"
    proc = app(tmp_path, fixture, "--source", f"imx500:{rpk}", "--looks", "1", "--box-threshold", "0.5",
               "--threshold", "0", "--smooth", "1/1", "--max-frames", len(scenes), "--jsonl", out, order=scenes)
    assert proc.returncode == 0, proc.stderr
    assert "Network Firmware Upload" in proc.stderr  # the upload's progress is shown
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert events, proc.stderr
    for e in events:
        sensor = sensor_boxes(fixture, n - 1 - scenes[e["frame"]], 0.5)
        assert any(iou(Box(*e["box"]), d.box) > 0.5 for d in sensor), e


def test_detect_mode_finds_the_dev_scenes_numbers(tmp_path, fixture, card):
    """With both looks (the second on the CPU), the numbers the sensor's first look finds are read there."""
    n = len(fixture["frames"])
    scenes = [i for i in range(n) for _ in range(REPEAT)]
    rpk = stand_in_network(tmp_path, fixture, card, order=scenes)
    out = tmp_path / "r.jsonl"
    proc = app(tmp_path, fixture, "--source", f"imx500:{rpk}", "--box-threshold", "0.5", "--threshold", "0",
               "--smooth", "1/1", "--max-frames", len(scenes), "--jsonl", out, order=scenes)
    assert proc.returncode == 0, proc.stderr
    truths = json.loads(str(fixture["truths"]))
    events = [json.loads(line) for line in out.read_text().splitlines()]
    hits = {scenes[e["frame"]] for e in events
            if any(iou(Box(*e["box"]), Box(*t)) >= 0.5 for t in truths[scenes[e["frame"]]])}
    found = {i for i in range(n) if any(iou(d.box, Box(*t)) >= 0.5 for d in sensor_boxes(fixture, i, 0.5)
                                        for t in truths[i])}
    assert found and len(hits) >= len(found) - 1, (hits, found)


def test_roi_mode_reads_the_region_on_the_cpu(tmp_path, fixture, card):
    rpk = stand_in_network(tmp_path, fixture, card)
    out = tmp_path / "r.jsonl"
    truth = [round(v) for v in json.loads(str(fixture["truths"]))[3][0]]
    proc = app(tmp_path, fixture, "--source", f"imx500:{rpk}", "--roi", ",".join(map(str, truth)),
               "--threshold", "0", "--smooth", "1/1", "--max-frames", REPEAT, "--jsonl", out, order=[3] * REPEAT)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert events and all(e["roi"] == truth and e["box"] is None for e in events), proc.stderr


def test_network_still_loading_lets_the_cpu_look(tmp_path, fixture, card):
    rpk = stand_in_network(tmp_path, fixture, card)
    out = tmp_path / "r.jsonl"
    proc = app(tmp_path, fixture, "--source", f"imx500:{rpk}", "--box-threshold", "0.5", "--threshold", "0",
               "--smooth", "1/1", "--max-frames", 3, "--jsonl", out, "-v",
               env={"FAKE_IMX500_SILENT_FRAMES": "100"})
    assert proc.returncode == 0, proc.stderr
    assert "no outputs yet" in proc.stderr


@pytest.mark.parametrize("case, env, want", [
    ("missing", {}, "no such network file"),
    ("bare", {}, "give the network: --source imx500:DIR/network.rpk"),
    ("other input", {}, "its network takes 54x54 pictures"),
    ("other outputs", {}, "is another model"),
    ("other name", {}, "runs network 'house_numbers'"),
    ("no camera", {"FAKE_IMX500_ABSENT": "1"}, "no Raspberry Pi AI Camera (IMX500) found"),
])
def test_bad_network_or_camera_is_one_line_and_exit_2(tmp_path, fixture, card, case, env, want):
    rpk = stand_in_network(tmp_path, fixture, card)
    spec = f"imx500:{rpk}"
    if case == "missing":
        spec = f"imx500:{tmp_path / 'nothing.rpk'}"
    elif case == "bare":
        spec = "imx500"
    elif case == "other input":
        stand_in_network(tmp_path, fixture, card, input_size=np.array([54, 54]))
    elif case == "other outputs":
        stand_in_network(tmp_path, fixture, card, box=fixture["box"][..., :2])
    elif case == "other name":
        stand_in_network(tmp_path, fixture, card, network_name="house_numbers")
    proc = app(tmp_path, fixture, "--source", spec, "--box-threshold", "0.5", "--max-frames", 2, env=env)
    # the error, then the run's summary line (no frame was read); the upload's progress may come first
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("Network Firmware Upload")]
    assert proc.returncode == 2 and lines[0].startswith("error:") and want in lines[0], proc.stderr
    assert len(lines) <= 2 and "Traceback" not in proc.stderr and lines[-1].startswith(("error:", "frames 0 "))


def test_source_kind():
    assert source_kind("imx500") == "imx500" and source_kind("imx500:/x/network.rpk") == "imx500"


# -- export --target imx500 -------------------------------------------------------------------------------------


def test_export_without_the_toolchain_is_one_line_and_exit_2(tmp_path):
    proc = run_module("export", "--target", "imx500", "--model", DETECTOR, "--calibration", tmp_path / "c.npz",
                      "--out", tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "--target imx500 needs" in proc.stderr and "scripts/imx500_env.sh" in proc.stderr


@pytest.mark.skipif(not IMX500_TOOLCHAIN.is_file(),
                    reason="no IMX500 toolchain here (.venv-imx500: bash scripts/imx500_env.sh)")
def test_conversion_in_the_toolchain_environment(tmp_path, fixture):
    """The whole export in the toolchain's environment, calibrated on the fixture's frames: a packerOut.zip whose
    card names it and whose outputs are the detector's (about 45 s on 2 cores, most of it the converter)."""
    from calibration.build import save
    from edge_app.contract import detector_input

    calib = tmp_path / "calib.npz"
    save(calib, np.stack([detector_input(f) for f in fixture["frames"]]), {"kind": "detector", "count": 6})
    started = time.perf_counter()
    proc = export_imx500(DETECTOR, calib, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr[-2000:]
    card = SensorCard.read(tmp_path / "out" / "number_detector_imx500.json")
    zip_path = tmp_path / "out" / card.file
    with zipfile.ZipFile(zip_path) as z:
        assert "dnnParams.xml" in z.namelist()
    assert card.converter["memory"]["Fit In Chip"] is True
    assert [o["shape"] for o in card.outputs] == [[18, 24, 1], [18, 24, 4]]
    print(f"export --target imx500 took {time.perf_counter() - started:.0f} s")
