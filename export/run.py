"""The export job: convert the variants, check them, write model cards, measure parity, try the Edge TPU."""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from calibration.build import load as load_calibration
from edge_app.atomic import write_atomic
from edge_app.contract import HEADS
from edge_app.inference.card import DETECTOR_OUTPUTS, Gate, ModelCard, ModelError, card_path, file_sha256, read_card
from train.cache import load_crops
from train.config import TrainConfig
from train.evaluate import keras_probabilities, predict
from train.folders import PROVENANCE, eval_inputs, parse_data, refuse_test_folders, validation_split
from train.metrics import TARGET_ACCURACY, coverage_at, judge, score

from .checks import ExportError, check_signature, read_signature, signature_of
from .edgetpu import compile_edgetpu, unsupported_ops
from .parity import markdown, readings, variant_report
from .sidecar import build_card, build_detector_card

log = logging.getLogger("export")
SUFFIX = {"int8": "", "float": "_float", "dynamic": "_dynamic"}


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
    threshold_data: str | None = None  # folders held out of training, for a run whose own folders are elsewhere


def export(cfg: ExportConfig) -> dict:
    """Run the whole export; returns the report (also written as report.json/.md with --eval-data)."""
    kind, calibration, provenance = preflight(cfg)
    import keras  # only now: every refusal above takes a second, not a TensorFlow start-up

    from .convert import op_names

    try:
        model = keras.models.load_model(cfg.model, compile=False)
    except Exception as err:  # noqa: BLE001 - a missing file, a bad zip or a foreign object all mean "not a model"
        why = f"{type(err).__name__}: {err}"[:240]
        raise ExportError(f"{cfg.model}: not a Keras model this export can load ({why})") from None
    check_signature(signature_of(model))  # what was built, not only what config.json declares
    training = _training_info(cfg.model)
    if kind == "detector":  # its own threshold and report (export/detector.py)
        from .detector import export_detector

        return export_detector(cfg, model, calibration, provenance, training)

    staging = cfg.out / f".{cfg.name}.staging"  # the variants wait here until their cards are complete
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        cards = {}
        for variant in cfg.variants:
            log.info("converting %s ...", variant)
            cards[variant] = convert_variant(staging, cfg, model, variant, calibration if variant == "int8" else None,
                                             provenance, training)
        validation = _validation(cfg.model, cfg.threshold_data)
        for card in cards.values():
            card.gate = _gate(staging / card.file, validation)  # each variant its own, or a stated none

        report = {"model": str(cfg.model), "cpu": f"{platform.machine()} {os.cpu_count()} cores", "variants": {}}
        int8 = cards["int8"]
        ops = op_names(staging / int8.file)
        compiled = compile_edgetpu(staging / int8.file, cfg.out, cfg.compiler)
        int8.edgetpu = {"unsupported_ops": unsupported_ops(ops), **compiled}
        report["edgetpu"] = int8.edgetpu
        tpu = int8.edgetpu
        log.info("Edge TPU: %s", f"compiled {tpu['file']}" if tpu["compiled"] else tpu["reason"])

        if cfg.eval_data:
            report.update(_parity(cfg, model, {v: staging / c.file for v, c in cards.items()}))
            for variant, card in cards.items():
                measured = report["variants"][variant]
                keys = ("sequence_accuracy", "digit_accuracy", "coverage_at_98", "by_length")
                card.measured = {**{k: measured[k] for k in keys}, "data": str(cfg.eval_data)}
        for card in cards.values():  # each card written once, then its model moved beside it
            card.sha256 = file_sha256(staging / card.file)  # the card names its model: a stray copy is refused
            card.write(card_path(cfg.out / card.file))
            os.replace(staging / card.file, cfg.out / card.file)
        if cfg.eval_data:
            write_atomic(cfg.out / "report.json", json.dumps(report, indent=2))
            write_atomic(cfg.out / "report.md", markdown(report))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report


def convert_variant(staging: Path, cfg: ExportConfig, model, variant: str, calibration, provenance: dict,
                    training: dict, kind: str = "reader") -> ModelCard:
    """One variant converted into `staging`, checked, with a working card beside it (gate not measured yet)."""
    from . import convert as cv  # TensorFlow

    path = staging / f"{cfg.name}{SUFFIX[variant]}.tflite"
    path.write_bytes(cv.convert(model, variant, calibration))
    info = cv.inspect(path)
    if variant == "int8" and (left := info.float_tensors):
        raise ExportError(f"the int8 model still holds {len(left)} float tensors ({', '.join(left[:3])}...): "
                          "some op did not quantise; not writing it")
    want, build = (HEADS, build_card) if kind == "reader" else (DETECTOR_OUTPUTS, build_detector_card)
    if sorted(info.heads.values()) != sorted(want):
        raise ExportError(f"converted outputs are named {sorted(info.heads.values())}, not {list(want)}")
    card = build(path, variant, info, training, provenance if variant == "int8" else None)
    card.write(card_path(path))  # a working copy: the edge app's wrapper runs the staged model for gate and parity
    return card


def _validation(model_path: Path, threshold_data: str | None = None) -> tuple[np.ndarray, np.ndarray, str] | str:
    """The run's validation split (inputs, targets, what it is) for the gates, or why there is none.

    threshold_data names folders that hold that split instead (scripts/validation_pictures.py draws them
    for a run trained on another machine), taken whole.
    """
    if threshold_data:
        folders = [folder for folder, _ in parse_data(threshold_data)]
        refuse_test_folders(folders, "measuring the gate")
        crops = [load_crops(f) for f in folders]
        inputs = np.concatenate([eval_inputs(np.asarray(c.regions)) for c in crops])
        targets = np.concatenate([c.targets for c in crops])
        return inputs, targets, f"the validation pictures in {threshold_data} ({len(inputs)})"
    config = model_path.parent / "config.json"
    if not config.exists():
        return "no run config beside the model: no validation split to measure a gate on"
    cfg = TrainConfig.load(config)
    inputs, targets = validation_split(cfg)
    if not len(inputs):
        return "the run has no validation split to measure a gate on"
    return inputs, targets, f"the validation split of {cfg.data} ({len(inputs)} pictures)"


def _gate(tflite: Path, validation) -> Gate:
    """This variant's coverage-at-98% confidence threshold on the run's validation split (never on test data)."""
    if isinstance(validation, str):
        return Gate.none(validation)
    inputs, targets, what = validation
    _, correct, confidence = judge(*predict(tflite, inputs, progress=False), targets)
    coverage, threshold = coverage_at(correct, confidence, TARGET_ACCURACY)
    never = "; accuracy never reaches it, so nothing passes" if coverage == 0 else ""
    return Gate(float(threshold), f"coverage at {TARGET_ACCURACY:.0%} sequence accuracy on {what}{never}")


def _parity(cfg: ExportConfig, model, files: dict[str, Path]) -> dict:
    crops = load_crops(cfg.eval_data, skip_bad=cfg.skip_bad)
    n = len(crops) if cfg.eval_limit is None else min(cfg.eval_limit, len(crops))
    inputs, targets = eval_inputs(np.asarray(crops.regions[:n])), crops.targets[:n]
    keras_probs = keras_probabilities(model, inputs)  # the model already loaded, not read again
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
        if cfg.get("init"):  # continued from another run's weights: its steps come on top of these
            info["init"] = cfg["init"]
    if (run / PROVENANCE).exists():  # what the folders were, for a run trained where they are
        info["provenance"] = json.loads((run / PROVENANCE).read_text())
    if (run / "metrics.json").exists():
        m = json.loads((run / "metrics.json").read_text())
        info.update({k: v for k, v in m.items() if k in ("steps", "best_step") or k.startswith("best_val_")})
        info["steps"] = m.get("steps_done", info.get("steps"))  # a portable run stopped by time trains fewer
    return info


def preflight(cfg: ExportConfig) -> tuple[str, np.ndarray, dict]:
    """Everything export can refuse before TensorFlow starts; returns the model's kind and its calibration set."""
    if "int8" not in cfg.variants:
        raise ExportError("the int8 variant is what the device runs: include it in --variants")
    signature = read_signature(cfg.model)
    check_signature(signature)
    calibration, provenance = load_calibration(cfg.calibration, kind=signature.kind)
    _check_out_folder(cfg)
    return signature.kind, calibration, provenance


def _check_out_folder(cfg: ExportConfig) -> None:
    cfg.out.mkdir(parents=True, exist_ok=True)
    for existing in cfg.out.glob("*.tflite"):
        try:
            source = read_card(existing).training.get("model")
        except ModelError:
            source = "an unreadable or older model card"
        if source != str(cfg.model) and not cfg.force:
            raise ExportError(f"{cfg.out} already holds {existing.name} from another model ({source}); "
                              "pick another --out or pass --force to replace it")
