"""The whole IMX500 export of a detector or a reader: rebuild, check, quantize (MCT), score, convert, card, fixture.

    .venv-imx500/bin/python -m export --target imx500 --model models/number_detector.tflite \\
        --calibration det_calib.npz --out models --eval-data data/dev_scenes
    .venv-imx500/bin/python -m export --target imx500 --model models/house_numbers.tflite \\
        --calibration reader_calib.npz --out models --eval-data ../shared/data/svhn/recon/test --eval-limit 1000

Writes <name>_packerOut.zip and <name>.json (edge_app.sources.imx500_network.SensorCard) in --out,
report_<name>.json, and with --fixture FILE a small .npz of real frames with the quantized model's outputs (the
tests' stand-in sensor).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from importlib import metadata
from pathlib import Path

import numpy as np

from calibration.build import load as load_calibration
from edge_app.atomic import atomic_path, write_atomic
from edge_app.inference.card import file_sha256, read_card
from edge_app.sources.imx500_network import SensorCard

from ..checks import ExportError
from . import Imx500Config, converter_path, detector, reader
from .rebuild import float_model, sensor_model
from .weights import WeightsError

log = logging.getLogger("export")
BATCH = 32


@dataclass(frozen=True)
class Network:
    """What differs between the detector and the reader on the sensor: builder, outputs, scores, fixture."""

    kind: str
    outputs: tuple[str, ...]  # the sensor model's output order (the converter keeps it: dnnParams.xml ordinals)
    evaluate: Callable  # (cfg, float model, quantized model, twin path or None, twin card or None) -> {"measured"}
    write_fixture: Callable  # (cfg, quantized model, twin card or None)


NETWORKS = {"detector": Network("detector", detector.OUTPUTS, detector.evaluate, detector.write_fixture),
            "reader": Network("reader", reader.OUTPUTS, reader.evaluate, reader.write_fixture)}


def export_imx500(cfg: Imx500Config) -> dict:
    """Run the export; returns the report (also written as report_<name>.json in --out)."""
    import model_compression_toolkit as mct

    twin_path = cfg.model if cfg.model.suffix == ".tflite" else cfg.model.parent / "number_detector.tflite"
    twin = read_card(twin_path, None, "--model") if twin_path.is_file() else None
    kind = twin.kind if twin else "detector"  # a run's .keras without a card beside it: the detector, as before
    arch = "detector" if kind == "detector" else twin.training.get("arch", "edge")
    net, name = NETWORKS[kind], cfg.name or f"{twin_path.stem}_imx500"
    calibration, provenance = load_calibration(cfg.calibration, kind)
    try:
        model = float_model(cfg.model, arch)
    except WeightsError as err:
        raise ExportError(str(err)) from None
    sensor = sensor_model(model, net.outputs)

    log.info("MCT post-training quantization of the %s on %d calibration inputs ...", kind, len(calibration))
    started = time.perf_counter()
    tpc = mct.get_target_platform_capabilities(tpc_version="1.0", device_type="imx500")

    def representative():
        for i in range(0, len(calibration), BATCH):
            yield [calibration[i : i + BATCH].astype(np.float32)]

    quantized, _ = mct.ptq.keras_post_training_quantization(sensor, representative, target_platform_capabilities=tpc)
    mct_s = time.perf_counter() - started

    rep: dict = {"model": str(cfg.model), "kind": kind, "target": "imx500",
                 "measured_on": f"{date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores",
                 "mct_seconds": round(mct_s, 1)}
    if cfg.eval_data:
        log.info("scoring float and MCT-quantized on %s ...", cfg.eval_data)
        rep.update(net.evaluate(cfg, model, quantized, twin_path if twin else None, twin))

    cfg.out.mkdir(parents=True, exist_ok=True)
    zip_path = cfg.out / f"{name}_packerOut.zip"
    converted = convert(quantized, name, zip_path)
    rep["converter"] = converted
    card = SensorCard(
        kind=kind,
        file=zip_path.name,
        network_name=name,
        input={"size": [int(sensor.input.shape[2]), int(sensor.input.shape[1])], "dtype": "uint8",
               "pixels": "RGB 0..255 as the sensor gives them (input quantisation scale 1.0, the model scales)"},
        outputs=[{"role": r, "shape": [int(v) for v in t.shape[1:]]} for r, t in zip(net.outputs, sensor.outputs)],
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
    card.write(cfg.out / f"{name}.json")
    if cfg.fixture:
        net.write_fixture(cfg, quantized, twin)
        rep["fixture"] = str(cfg.fixture)
    write_atomic(cfg.out / f"report_{name}.json", json.dumps(rep, indent=2))
    return rep


def _weights_from(model: Path) -> str:
    if model.suffix == ".tflite":
        return (f"{model.name}: int8 weights dequantised per channel, batch normalisation folded as the converter "
                "left it (the float run's model.keras is not in the repository)")
    return f"{model}: the trained float weights"


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
