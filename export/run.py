"""The export job: convert the variants, check them, write sidecars, measure parity, try the Edge TPU."""

from __future__ import annotations

import json
import logging
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from calibration.build import load as load_calibration
from edge_app.atomic import write_atomic
from edge_app.contract import HEADS
from edge_app.interpreter import read_sidecar, sidecar_path
from train.cache import load_crops
from train.config import TrainConfig
from train.evaluate import predict
from train.folders import eval_inputs, parse_data, validation_split
from train.metrics import TARGET_ACCURACY, coverage_at, judge, score

from . import convert as cv
from .edgetpu import compile_edgetpu, unsupported_ops
from .parity import markdown, readings, variant_report
from .sidecar import build_card, write_card

SUFFIX = {"int8": "", "float": "_float", "dynamic": "_dynamic"}
log = logging.getLogger("export")


@dataclass
class ExportConfig:
    """What to export, from what, to where."""

    model: Path
    calibration: Path
    out: Path
    name: str = "house_numbers"
    variants: tuple[str, ...] = ("int8",)
    eval_data: Path | None = None
    eval_limit: int | None = None
    force: bool = False
    compiler: str = "edgetpu_compiler"
    skip_bad: bool = False  # leave unreadable or badly labelled --eval-data pictures out, each named


def export(cfg: ExportConfig) -> dict:
    """Run the whole export; returns the report (also written as report.json/.md with --eval-data)."""
    import keras

    if "int8" not in cfg.variants:
        raise cv.ExportError("the int8 variant is what the device runs: include it in --variants")
    try:
        model = keras.models.load_model(cfg.model, compile=False)
    except Exception as err:  # noqa: BLE001 - a missing file, a bad zip or a foreign object all mean "not a model"
        raise cv.ExportError(f"{cfg.model}: not a Keras model this export can load ({type(err).__name__}: {err})"[:300]) from None
    from .detector import export_detector, is_detector

    if is_detector(model):  # its own conversion checks, threshold and report (export/detector.py)
        _check_out_folder(cfg)
        return export_detector(cfg, model, _training_info(cfg.model))
    cv.check_model(model)
    calibration, provenance = load_calibration(cfg.calibration, kind="reader")
    _check_out_folder(cfg)
    training = _training_info(cfg.model)

    files = {}
    for variant in cfg.variants:
        log.info("converting %s ...", variant)
        files[variant] = _write_variant(cfg, model, variant, calibration if variant == "int8" else None, provenance, training)

    report = {"model": str(cfg.model), "cpu": f"{platform.machine()} {os.cpu_count()} cores", "variants": {}}
    int8 = files["int8"]
    card = read_sidecar(int8)
    card["threshold_at_98"], card["threshold_from"] = _threshold(int8, cfg.model)
    ops = cv.op_names(int8)
    card["edgetpu"] = {"unsupported_ops": unsupported_ops(ops), **compile_edgetpu(int8, cfg.out, cfg.compiler)}
    write_card(sidecar_path(int8), card)
    report["edgetpu"] = card["edgetpu"]
    tpu = card["edgetpu"]
    log.info("Edge TPU: %s", f"compiled {tpu['file']}" if tpu["compiled"] else tpu["reason"])

    if cfg.eval_data:
        report.update(_parity(cfg, files))
        for variant, path in files.items():
            c = read_sidecar(path)
            c["accuracy"] = {k: report["variants"][variant][k] for k in ("sequence_accuracy", "digit_accuracy", "coverage_at_98", "by_length")}
            c["accuracy"]["data"] = str(cfg.eval_data)
            if variant == "int8":
                c.update({"threshold_at_98": card["threshold_at_98"], "threshold_from": card["threshold_from"], "edgetpu": card["edgetpu"]})
            write_card(sidecar_path(path), c)
        write_atomic(cfg.out / "report.json", json.dumps(report, indent=2))
        write_atomic(cfg.out / "report.md", markdown(report))
    return report


def _write_variant(cfg: ExportConfig, model, variant: str, calibration, provenance: dict, training: dict) -> Path:
    path = cfg.out / f"{cfg.name}{SUFFIX[variant]}.tflite"
    tmp = path.with_suffix(".tflite.tmp")
    tmp.write_bytes(cv.convert(model, variant, calibration))
    try:
        info = cv.inspect(tmp)
        if variant == "int8" and (left := info.float_tensors):
            raise cv.ExportError(f"the int8 model still holds {len(left)} float tensors ({', '.join(left[:3])}...): "
                                 "some op did not quantise; not writing it")
        if sorted(info.heads.values()) != sorted(HEADS):
            raise cv.ExportError(f"converted outputs are named {sorted(info.heads.values())}, not the six heads")
        card = build_card(tmp, variant, info, training, provenance if variant == "int8" else None)
        card["file"] = path.name
        write_card(sidecar_path(path), card)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _threshold(int8: Path, model_path: Path) -> tuple[float, str]:
    """Coverage-at-98% confidence threshold, measured on the run's validation split (never on test data)."""
    config = model_path.parent / "config.json"
    if not config.exists():
        return 0.0, "no run config beside the model: no validation split to measure it on"
    cfg = TrainConfig.load(config)
    inputs, targets = validation_split(cfg)
    if not len(inputs):
        return 0.0, "the run has no validation split"
    _, correct, confidence = judge(*predict(int8, inputs, progress=False), targets)
    _, threshold = coverage_at(correct, confidence, TARGET_ACCURACY)
    return threshold, f"validation split of {cfg.data} ({len(inputs)} pictures)"


def _parity(cfg: ExportConfig, files: dict[str, Path]) -> dict:
    crops = load_crops(cfg.eval_data, skip_bad=cfg.skip_bad)
    n = len(crops) if cfg.eval_limit is None else min(cfg.eval_limit, len(crops))
    inputs, targets = eval_inputs(np.asarray(crops.regions[:n])), crops.targets[:n]
    keras_probs = predict(cfg.model, inputs)
    reference = readings(*keras_probs)
    k = score(*keras_probs, targets)
    out = {"eval_data": str(cfg.eval_data), "count": int(n), "keras": k, "variants": {}}
    for variant, path in files.items():
        out["variants"][variant] = variant_report(path, predict(path, inputs), reference, targets, inputs)
    return out


def _training_info(model_path: Path) -> dict:
    run = model_path.parent
    info = {"model": str(model_path)}
    if (run / "config.json").exists():
        cfg = json.loads((run / "config.json").read_text())
        info.update({k: cfg.get(k) for k in ("arch", "data", "seed", "batch_size")})
        info["folders"] = [str(f) for f, _ in parse_data(cfg["data"])]
    if (run / "metrics.json").exists():
        m = json.loads((run / "metrics.json").read_text())
        info.update({k: v for k, v in m.items() if k in ("steps", "best_step") or k.startswith("best_val_")})
    return info


def _check_out_folder(cfg: ExportConfig) -> None:
    cfg.out.mkdir(parents=True, exist_ok=True)
    for existing in cfg.out.glob("*.tflite"):
        try:
            source = read_sidecar(existing).get("training", {}).get("model")
        except ValueError:
            source = None
        if source != str(cfg.model) and not cfg.force:
            raise cv.ExportError(f"{cfg.out} already holds {existing.name} from another model ({source}); "
                                 "pick another --out or pass --force to replace it")
