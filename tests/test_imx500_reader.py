"""The reader on the AI Camera's sensor (fixed-ROI mode): the shipped packerOut.zip and its card, the sensor's crop
for --roi, its six heads decoded by the card's order, and the source on the stand-in IMX500 with TensorFlow blocked.

The stand-in serves real recon/test pictures (letterboxed to 320x240) and, in each frame's metadata, the heads the
MCT-quantized reader computed on that frame's ROI as the contract grows and crops it (tests/fixtures/
imx500_reader.npz, written by export --target imx500 --fixture). The app's own use of them (the reading taken from
the sensor instead of the CPU) needs SourceOptions.roi, which edge_app passes once it has it: those tests skip until.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest

from edge_app.contract import HEADS, INPUT_SIZE, REGION_SIZE, Box, digit_region
from edge_app.decode import decode
from edge_app.inference.card import file_sha256
from edge_app.sources import SourceError
from edge_app.sources.imx500_network import (
    READER_CARD,
    SensorCard,
    SensorOutputs,
    outputs_by_role,
    sensor_reading,
    sensor_roi,
)
from tests.conftest import ROOT
from tests.standins import IMX500_TOOLCHAIN, export_imx500, imx500_fixtures, imx500_network

FAKES = ROOT / "tests" / "fakes"
FIXTURE = ROOT / "tests" / "fixtures" / "imx500_reader.npz"
READER = ROOT / "models" / "house_numbers.tflite"
SENSOR = (0, 0, 4056, 3040)  # the stand-in's ScalerCrop: the whole IMX500


fixture, card = imx500_fixtures(FIXTURE, READER_CARD)


def heads_of(fixture: dict, i: int, card: SensorCard) -> list[np.ndarray]:
    return [fixture[o["role"]][i] for o in card.outputs]


def stand_in_network(folder: Path, fixture: dict, card: SensorCard, order=None, **changes) -> Path:
    """The reader's stand-in network.rpk (its card copied beside it as network.json): the fixture's heads, frames in
    `order`; `changes` as imx500_network."""
    order = list(range(len(fixture["frames"]))) if order is None else order
    path = imx500_network(folder, card, {h: fixture[h][order] for h in HEADS}, **changes)
    (folder / "network.json").write_text(READER_CARD.read_text())
    return path


def stand_in_env(tmp_path: Path, frames: np.ndarray) -> dict:
    np.save(tmp_path / "frames.npy", frames)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(FAKES / "blocked"), str(FAKES), str(ROOT)]),
            "FAKE_PICAMERA_FRAMES": str(tmp_path / "frames.npy"), "FAKE_IMX500_ROI_LOG": str(tmp_path / "roi.jsonl")}


# Opens the source as the app does with --roi and prints each frame's sensor reading; TensorFlow and Keras are
# blocked.
READ_SCRIPT = """
import json, sys
from edge_app.contract import Box
from edge_app.sources import SourceError, SourceOptions
from edge_app.sources.imx500 import open_imx500
from edge_app.sources.imx500_network import sensor_reading
spec, roi, n, size = sys.argv[1], Box(*json.loads(sys.argv[2])), int(sys.argv[3]), tuple(json.loads(sys.argv[4]))
try:
    with open_imx500(spec, SourceOptions(size=size, roi=roi)) as source:
        for frame, _ in zip(source, range(n)):
            r = sensor_reading(frame.lores, roi)
            print(json.dumps(None if r is None else [r.text, r.confidence]))
except SourceError as err:
    print("error:", err)
    sys.exit(2)
"""


def read_on_sensor(tmp_path: Path, fixture: dict, rpk: Path, roi, frames: np.ndarray, n: int):
    size = [frames.shape[2], frames.shape[1]]
    return subprocess.run([sys.executable, "-c", READ_SCRIPT, f"imx500:{rpk}", json.dumps([float(v) for v in roi]),
                           str(n), json.dumps(size)], cwd=ROOT, env=stand_in_env(tmp_path, frames),
                          capture_output=True, text=True, timeout=120)


# -- the shipped network and its card ----------------------------------------------------------------------------


def test_shipped_reader_card_names_its_packer_output_heads_and_twin(card):
    zip_path = READER_CARD.parent / card.file
    assert card.kind == "reader" and hashlib.sha256(zip_path.read_bytes()).hexdigest() == card.sha256
    with zipfile.ZipFile(zip_path) as z:
        params = ET.fromstring(z.read("dnnParams.xml"))
    inputs = params.findall(".//inputTensor")
    outputs = sorted(params.findall(".//outputTensor"), key=lambda t: int(t.get("ordinal")))
    dims = lambda t: [int(d.get("size")) for d in t.findall(".//dimension")]  # noqa: E731
    assert len(inputs) == 1 and dims(inputs[0]) == [INPUT_SIZE, INPUT_SIZE, 3] == [*card.input_size[::-1], 3]
    assert inputs[0].get("format") == "unsigned" and float(inputs[0].get("scale")) == 1.0  # raw pixels go in
    # the converter kept the heads in the card's order, and names them
    assert [dims(t) for t in outputs] == [o["shape"] for o in card.outputs]
    assert [o["role"] for o in card.outputs] == list(HEADS)
    assert all(f"-{o['role']}_" in t.get("name") for o, t in zip(card.outputs, outputs))
    assert card.twin == {"file": READER.name, "sha256": file_sha256(READER)}
    assert card.converter["memory"]["Fit In Chip"] is True
    assert "non-commercial" in card.training["licence"]
    assert "recon/test" not in json.dumps(card.quantization["calibration"])  # calibrated on training data only


def test_mct_quantized_reader_reads_as_well_as_float(card):
    m = card.measured
    assert m["data"].endswith("recon/test") and m["pictures"] >= 1000
    assert m["float"]["sequence_accuracy"] - m["mct"]["sequence_accuracy"] <= 0.01
    assert abs(m["tflite"]["sequence_accuracy"] - m["float"]["sequence_accuracy"]) <= 0.01  # the rebuild is faithful
    assert m["mct_reads_as_float"] >= 0.95


def test_rebuilt_float_reader_matches_the_shipped_int8_one(fixture):
    """The weights export reads out of the int8 .tflite (convolutions and dense layers), in the project's own edge
    builder (Keras 3 here, tf.keras 2.15 in the toolchain): it reads the fixture's ROIs as the .tflite does."""
    pytest.importorskip("keras")
    from ai_edge_litert.interpreter import Interpreter

    from edge_app.contract import model_input
    from edge_app.inference.reader import HouseNumberModel
    from export.imx500.weights import set_weights
    from train.models.edge import build_edge
    from train.tflite_weights import tflite_weights

    model = build_edge()
    set_weights(model, tflite_weights(READER, Interpreter), folded=True, source=READER)
    inputs = np.stack([model_input(f, digit_region([Box(*r)])) for f, r in zip(fixture["frames"], fixture["rois"])])
    ours = model.predict(inputs, verbose=0)
    tflite = HouseNumberModel(READER, threads=1)
    for i, x in enumerate(inputs):
        length, digits = tflite.probabilities(x)
        assert np.abs(ours["length"][i] - length).max() < 0.05
        assert decode(ours["length"][i], np.stack([ours[h][i] for h in HEADS[1:]])).text == tflite.read(x).text


# -- the sensor's crop and its heads -----------------------------------------------------------------------------


def test_sensor_crop_is_what_the_cpu_reader_sees_of_the_roi():
    """The contract's region (the ROI grown 30%) narrowed to its centre 54/64, in sensor pixels."""
    roi, frame = Box(100, 50, 80, 40), (320, 240)
    seen = digit_region([roi])
    k = INPUT_SIZE / REGION_SIZE
    want = (seen.left + seen.width * (1 - k) / 2, seen.top + seen.height * (1 - k) / 2, seen.width * k,
            seen.height * k)
    got = sensor_roi(roi, frame, SENSOR)
    scale = SENSOR[2] / frame[0], SENSOR[3] / frame[1]
    assert all(isinstance(v, int) for v in got)
    assert np.allclose(got, [want[0] * scale[0], want[1] * scale[1], want[2] * scale[0], want[3] * scale[1]], atol=1)
    assert sensor_roi(roi, frame, (8, 6, 4040, 3030))[:2] != got[:2]  # through the main stream's ScalerCrop
    x, y, w, h = sensor_roi(Box(-10, -10, 60, 40), frame, SENSOR)  # over the edge: kept on the sensor
    assert (x, y) == (0, 0) and w > 0 and h > 0
    with pytest.raises(SourceError, match="outside"):
        sensor_roi(Box(400, 300, 20, 20), frame, SENSOR)


def test_heads_are_taken_by_the_cards_order_and_decoded_as_on_the_cpu(card, fixture):
    roi = Box(*fixture["rois"][1])
    outputs = outputs_by_role(heads_of(fixture, 1, card), card)
    lores = SensorOutputs.of(outputs, card.input_size, roi)
    want = decode(fixture["length"][1], np.stack([fixture[f"digit{i}"][1] for i in range(1, 6)]))
    assert sensor_reading(lores, roi) == want and want.text == str(fixture["labels"][1])
    assert sensor_reading(lores, Box(0, 0, 10, 10)) is None  # the page drew another region: the CPU reads it
    assert sensor_reading(None, roi) is None and sensor_reading(SensorOutputs.of({"heatmap": 0}, (4, 3)), roi) is None
    with pytest.raises(SourceError, match=r"outputs \[\[11\], \[7\].*another model"):  # length and digit1 swapped
        outputs_by_role([outputs["digit1"], outputs["length"], *heads_of(fixture, 1, card)[2:]], card)
    batched = [h[None] for h in heads_of(fixture, 1, card)]  # picamera2's add_batch=True
    assert sensor_reading(SensorOutputs.of(outputs_by_role(batched, card), (54, 54), roi), roi) == want


# -- the source on the stand-in AI Camera, TensorFlow blocked ---------------------------------------------------


def test_the_sensor_reads_the_roi(tmp_path, fixture, card):
    """A picture held with its ROI: the sensor is pointed at the grown ROI once, at opening (the frame on which it
    was sent, whose outputs came before it, is passed over while the source waits for outputs), and every frame
    then carries the reader network's reading of the ROI."""
    i = 1
    frames = np.repeat(fixture["frames"][i : i + 1], 3, axis=0)
    rpk = stand_in_network(tmp_path, fixture, card, order=[i] * 3)
    roi = fixture["rois"][i]
    proc = read_on_sensor(tmp_path, fixture, rpk, roi, frames, 3)
    assert proc.returncode == 0, proc.stderr
    readings = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(readings) == 3 and all(r is not None and r[0] == str(fixture["labels"][i]) for r in readings)
    sent = [json.loads(line) for line in (tmp_path / "roi.jsonl").read_text().splitlines()]
    assert sent == [list(sensor_roi(Box(*roi), frames.shape[2:0:-1], SENSOR))]


def test_the_sensor_reads_the_fixture_pictures(tmp_path, fixture, card):
    """Real pictures, their real MCT outputs: the sensor's readings are the labels (all but at most one)."""
    n = len(fixture["frames"])
    right = 0
    for i in range(n):
        rpk = stand_in_network(tmp_path, fixture, card, order=[i] * 2)
        proc = read_on_sensor(tmp_path, fixture, rpk, fixture["rois"][i], fixture["frames"][[i, i]], 2)
        assert proc.returncode == 0, proc.stderr
        right += json.loads(proc.stdout.splitlines()[-1])[0] == str(fixture["labels"][i])
    assert right >= n - 1


@pytest.mark.parametrize("case, want", [
    ("other outputs", "is another model"),
    ("other name", "runs network 'number_detector_imx500'"),
    ("roi outside", "lies outside the 320x240 frame"),
])
def test_bad_reader_network_or_roi_is_refused_at_opening(tmp_path, fixture, card, case, want):
    roi = fixture["rois"][0]
    changes = {"other outputs": {"digit5": fixture["digit5"][:, :7]},
               "other name": {"network_name": "number_detector_imx500"}}.get(case, {})
    rpk = stand_in_network(tmp_path, fixture, card, **changes)
    if case == "roi outside":
        roi = [400, 300, 20, 20]
    proc = read_on_sensor(tmp_path, fixture, rpk, roi, fixture["frames"][:2], 2)
    assert proc.returncode == 2 and want in proc.stdout, proc.stdout + proc.stderr


# -- the app on the stand-in, TensorFlow blocked (once edge_app hands --roi to its source) -----------------------


def app(tmp_path: Path, frames: np.ndarray, *args):
    args = ("--size", f"{frames.shape[2]}x{frames.shape[1]}", *args)
    return subprocess.run([sys.executable, "-m", "edge_app", *map(str, args)], cwd=ROOT,
                          env=stand_in_env(tmp_path, frames), capture_output=True, text=True, timeout=120)


def test_app_reads_the_roi_on_the_sensor(tmp_path, fixture, card):
    """The sensor's heads are those of another picture than the frame shows: the app reports them, so the reading
    came from the sensor, not from the CPU reader on the frame."""
    frames = np.repeat(fixture["frames"][:1], 4, axis=0)
    rpk = stand_in_network(tmp_path, fixture, card, order=[1] * 4)
    roi = ",".join(f"{v:g}" for v in fixture["rois"][0])
    out = tmp_path / "r.jsonl"
    proc = app(tmp_path, frames, "--source", f"imx500:{rpk}", "--roi", roi, "--threshold", "0", "--smooth", "1/1",
               "--max-frames", 4, "--jsonl", out)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert events and {e["reading"] for e in events} == {str(fixture["labels"][1])} != {str(fixture["labels"][0])}
    assert all(e["roi"] == [round(float(v)) for v in fixture["rois"][0]] for e in events)


@pytest.mark.parametrize("case, want", [
    ("no roi", "is the reader, which reads one fixed region: give --roi"),
    ("other outputs", "is another model"),
])
def test_app_bad_reader_use_is_one_line_and_exit_2(tmp_path, fixture, card, case, want):
    changes = {"digit5": fixture["digit5"][:, :7]} if case == "other outputs" else {}
    rpk = stand_in_network(tmp_path, fixture, card, **changes)
    roi = () if case == "no roi" else ("--roi", ",".join(f"{v:g}" for v in fixture["rois"][0]))
    proc = app(tmp_path, fixture["frames"][:2], "--source", f"imx500:{rpk}", *roi, "--max-frames", 2)
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("Network Firmware Upload")]
    assert proc.returncode == 2 and lines[0].startswith("error:") and want in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


# -- export --target imx500 of the reader -------------------------------------------------------------------------



@pytest.mark.skipif(not IMX500_TOOLCHAIN.is_file(),
                    reason="no IMX500 toolchain here (.venv-imx500: bash scripts/imx500_env.sh)")
def test_reader_conversion_in_the_toolchain_environment(tmp_path, fixture):
    """The reader's export in the toolchain's environment, calibrated on the fixture's ROIs: a packerOut.zip whose
    card is the reader's, its six heads in order, within the sensor's memory (about 45 s on 2 cores)."""
    import time

    from calibration.build import save
    from edge_app.contract import model_input

    calib = tmp_path / "calib.npz"
    inputs = np.stack([model_input(f, digit_region([Box(*r)])) for f, r in zip(fixture["frames"], fixture["rois"])])
    save(calib, inputs, {"kind": "reader", "count": len(inputs)})
    started = time.perf_counter()
    proc = export_imx500(READER, calib, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr[-2000:]
    card = SensorCard.read(tmp_path / "out" / "house_numbers_imx500.json")
    assert card.kind == "reader" and [o["role"] for o in card.outputs] == list(HEADS)
    assert [o["shape"] for o in card.outputs] == [[7]] + [[11]] * 5
    assert card.converter["memory"]["Fit In Chip"] is True
    with zipfile.ZipFile(tmp_path / "out" / card.file) as z:
        assert "dnnParams.xml" in z.namelist()
    print(f"export --target imx500 of the reader took {time.perf_counter() - started:.0f} s")
