"""The whole IMX500 export of the detector: rebuild, check, quantize (MCT), score, convert, card, report, fixture.

    .venv-imx500/bin/python -m export --target imx500 --model models/number_detector.tflite \\
        --calibration det_calib.npz --out models --eval-data data/dev_scenes

Writes <name>_packerOut.zip and <name>.json (edge_app.sources.imx500.SensorCard) in --out, report_<name>.json, and
with --fixture FILE a small .npz of dev frames with the quantized model's outputs (the tests' stand-in sensor).
"""

from __future__ import annotations

import io
import json
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from importlib import metadata
from pathlib import Path

import numpy as np

from calibration.build import load as load_calibration
from edge_app.atomic import atomic_path, write_atomic
from edge_app.contract import detector_input, load_image
from edge_app.inference.card import file_sha256, read_card
from edge_app.scenes import read_scenes
from edge_app.sources.imx500 import SensorCard
from train.detection_metrics import report
from train.scene_data import found_in, load_frames

from ..checks import ExportError
from . import converter_path
from .rebuild import float_detector, sensor_model
from .weights import WeightsError

log = logging.getLogger("export")
OUTPUTS = ("heatmap", "box")  # the sensor model's output order (the converter keeps it: dnnParams.xml ordinals)
FIXTURE_SIZE = (256, 192)  # the stand-in's frames: 4:3 like the detector, above its input, small enough to commit
BATCH = 32


@dataclass(frozen=True)
class Imx500Config:
    """One IMX500 export (built from export's command line)."""

    model: Path  # the detector's run model.keras or its int8 .tflite (with its card beside it)
    calibration: Path
    out: Path
    name: str = "number_detector_imx500"
    eval_data: Path | None = None
    eval_limit: int | None = None
    fixture: Path | None = None
    fixture_count: int = 6


def export_imx500(cfg: Imx500Config) -> dict:
    """Run the export; returns the report (also written as report_<name>.json in --out)."""
    import model_compression_toolkit as mct

    twin_path = cfg.model if cfg.model.suffix == ".tflite" else cfg.model.parent / "number_detector.tflite"
    twin = read_card(twin_path, "detector", "--model") if twin_path.is_file() else None
    calibration, provenance = load_calibration(cfg.calibration, "detector")
    try:
        model = float_detector(cfg.model)
    except WeightsError as err:
        raise ExportError(str(err)) from None
    sensor = sensor_model(model, OUTPUTS)

    log.info("MCT post-training quantization on %d calibration frames ...", len(calibration))
    started = time.perf_counter()
    tpc = mct.get_target_platform_capabilities(tpc_version="1.0", device_type="imx500")

    def representative():
        for i in range(0, len(calibration), BATCH):
            yield [calibration[i : i + BATCH].astype(np.float32)]

    quantized, _ = mct.ptq.keras_post_training_quantization(sensor, representative, target_platform_capabilities=tpc)
    mct_s = time.perf_counter() - started

    rep: dict = {"model": str(cfg.model), "kind": "detector", "target": "imx500",
                 "measured_on": f"{date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores",
                 "mct_seconds": round(mct_s, 1)}
    threshold = twin.gate.threshold if twin and twin.gate.threshold is not None else 0.5
    if cfg.eval_data:
        rep.update(evaluate(cfg, model, quantized, twin_path if twin else None, threshold))

    cfg.out.mkdir(parents=True, exist_ok=True)
    zip_path = cfg.out / f"{cfg.name}_packerOut.zip"
    converted = convert(quantized, cfg.name, zip_path)
    rep["converter"] = converted
    card = SensorCard(
        kind="detector",
        file=zip_path.name,
        network_name=cfg.name,
        input={"size": [int(sensor.input.shape[2]), int(sensor.input.shape[1])], "dtype": "uint8",
               "pixels": "RGB 0..255 as the sensor gives them (input quantisation scale 1.0, the model scales)"},
        outputs=[{"role": r, "shape": [int(v) for v in t.shape[1:]]} for r, t in zip(OUTPUTS, sensor.outputs)],
        twin={"file": twin_path.name, "sha256": file_sha256(twin_path)} if twin else {},
        quantization={
            "method": "MCT post-training quantization (8-bit weights and activations, IMX500 target platform 1.0)",
            "tools": {p: metadata.version(p) for p in ("model-compression-toolkit", "tensorflow",
                                                       "imx500-converter")},
            "weights_from": _weights_from(cfg.model),
            "calibration": {"file": str(cfg.calibration), **provenance},
        },
        training=dict(twin.training) if twin else {"licence": "unknown: no card beside the model"},
        measured=rep.get("measured"),
        converter=converted,
        sha256=file_sha256(zip_path),
    )
    card.write(cfg.out / f"{cfg.name}.json")
    if cfg.fixture:
        write_fixture(cfg, quantized, threshold)
        rep["fixture"] = str(cfg.fixture)
    write_atomic(cfg.out / f"report_{cfg.name}.json", json.dumps(rep, indent=2))
    return rep


def _weights_from(model: Path) -> str:
    if model.suffix == ".tflite":
        return (f"{model.name}: int8 weights dequantised per channel, batch normalisation folded as the converter "
                "left it (the float run's model.keras is not in the repository)")
    return f"{model}: the trained float weights"


def evaluate(cfg: Imx500Config, model, quantized, twin: Path | None, threshold: float) -> dict:
    """Float (rebuilt) vs MCT-quantized on the dev scenes at IoU 0.5, at the CPU detector's threshold; and how
    close the rebuilt float model's outputs are to the shipped .tflite's."""
    frames, boxes, _ = load_frames(cfg.eval_data)
    n = len(frames) if cfg.eval_limit is None else min(cfg.eval_limit, len(frames))
    frames, boxes = frames[:n], boxes[:n]
    out_f = model.predict(frames, batch_size=BATCH, verbose=0)
    out_q = dict(zip(OUTPUTS, quantized.predict(frames.astype(np.float32), batch_size=BATCH, verbose=0)))
    found = {"float": found_in(out_f["heatmap"], out_f["box"]), "mct": found_in(out_q["heatmap"], out_q["box"])}
    keys = ("recall", "precision", "f1", "mean_iou", "ap50", "false_per_empty_frame")
    scores = {name: {k: report(f, boxes, threshold)[k] for k in keys} for name, f in found.items()}
    measured = {"data": str(cfg.eval_data), "frames": n, "numbers": sum(len(b) for b in boxes), "iou": 0.5,
                "threshold": threshold, **scores,
                "recall_drop_points": round((scores["float"]["recall"] - scores["mct"]["recall"]) * 100, 2),
                "heatmap_mean_abs_diff_mct_vs_float": float(np.abs(out_q["heatmap"] - out_f["heatmap"]).mean())}
    if twin is not None:
        measured["rebuilt_vs_tflite"] = parity(model, twin, frames, boxes, threshold, out_f)
    return {"measured": measured}


def parity(model, twin: Path, frames, boxes, threshold: float, out_f: dict) -> dict:
    """The rebuilt float model against the .tflite it came from: output differences and both detectors' scores."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(twin))
    interpreter.allocate_tensors()
    card = read_card(twin, "detector")
    index = {d["name"]: d for d in interpreter.get_output_details()}
    heat, box = [], []
    for frame in frames:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], frame[None])
        interpreter.invoke()
        got = {}
        for role in OUTPUTS:
            d = index[card.outputs[role].name]
            scale, zero = d["quantization"]
            got[role] = scale * (interpreter.get_tensor(d["index"])[0].astype(np.int64) - zero)
        heat.append(got["heatmap"])
        box.append(got["box"])
    heat, box = np.stack(heat), np.stack(box)
    tflite = report(found_in(heat, box), boxes, threshold)
    return {"heatmap_mean_abs_diff": float(np.abs(heat - out_f["heatmap"]).mean()),
            "heatmap_max_abs_diff": float(np.abs(heat - out_f["heatmap"]).max()),
            "box_mean_abs_diff": float(np.abs(box - out_f["box"]).mean()),
            "tflite_recall": tflite["recall"], "tflite_precision": tflite["precision"]}


def convert(quantized, name: str, zip_path: Path) -> dict:
    """MCT's export of the quantized model -> Sony's converter -> packerOut.zip (written whole or not at all)."""
    import model_compression_toolkit as mct

    with tempfile.TemporaryDirectory() as tmp:
        keras_file = Path(tmp) / f"{name}.keras"  # its stem becomes the network's name on the sensor
        mct.exporter.keras_export_model(model=quantized, save_model_path=str(keras_file))
        log.info("converting with %s ...", converter_path())
        started = time.perf_counter()
        proc = subprocess.run([str(converter_path()), "-i", str(keras_file), "-o", str(Path(tmp) / "out")],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - started
        produced = Path(tmp) / "out" / "packerOut.zip"
        if proc.returncode != 0 or not produced.is_file():
            errors = [line for line in (proc.stdout + proc.stderr).splitlines() if "ERROR" in line]
            raise ExportError(f"imxconv-tf failed: {(errors or ['exit ' + str(proc.returncode)])[-1].strip()}")
        memory = json.loads(next((Path(tmp) / "out").glob("*_MemoryReport.json")).read_text())["Memory Report"]
        with atomic_path(zip_path) as tmp_zip:
            shutil.copyfile(produced, tmp_zip)
    return {"version": metadata.version("imx500-converter"), "seconds": round(seconds, 1),
            "memory": {k: memory[k] for k in ("Memory Usage", "Total Memory Available On Chip", "Fit In Chip")}}


def write_fixture(cfg: Imx500Config, quantized, threshold: float) -> None:
    """The first `fixture_count` dev scenes at FIXTURE_SIZE with the MCT model's outputs on each: what the tests'
    stand-in sensor serves (real frames, real outputs), with the numbers' true boxes in frame pixels."""
    from PIL import Image

    scenes = read_scenes(cfg.eval_data)[: cfg.fixture_count]
    frames, truths = [], []
    for s in scenes:
        image = load_image(Path(cfg.eval_data) / s.name)
        sx, sy = FIXTURE_SIZE[0] / image.shape[1], FIXTURE_SIZE[1] / image.shape[0]
        frames.append(np.asarray(Image.fromarray(image).resize(FIXTURE_SIZE, Image.BILINEAR)))
        truths.append([[b.left * sx, b.top * sy, b.width * sx, b.height * sy] for b in s.number_boxes()])
    frames = np.stack(frames)
    inputs = np.stack([detector_input(f) for f in frames]).astype(np.float32)
    heat, box = quantized.predict(inputs, verbose=0)
    buf = io.BytesIO()
    np.savez_compressed(buf, frames=frames, heatmap=heat.astype(np.float32), box=box.astype(np.float32),
                        truths=np.array(json.dumps(truths)), names=np.array([s.name for s in scenes]),
                        threshold=np.float32(threshold))
    write_atomic(cfg.fixture, buf.getvalue())
