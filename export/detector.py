"""Export of the number detector: int8 (uint8 frame in, uint8 heatmap and boxes out), its card, its parity report.

The score threshold of the card is picked on the run's VALIDATION scenes (best F1 at IoU 0.5), for
each variant on its own outputs; the dev scenes given as --eval-data are only measured.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from pathlib import Path

import numpy as np

from calibration.build import load as load_calibration
from edge_app.atomic import write_atomic
from edge_app.contract import DETECTOR_HEIGHT, DETECTOR_STRIDE, DETECTOR_WIDTH
from edge_app.interpreter import interpreter_class
from train.config import TrainConfig
from train.detection_metrics import best_f1_threshold, report
from train.scene_data import decode, load_frames, load_scene_splits

from . import convert as cv
from .edgetpu import compile_edgetpu, unsupported_ops
from .sidecar import CLEAN_LICENCE, SVHN_LICENCE, is_clean_synthetic

OUTPUTS = ("heatmap", "box")
CARD_FORMAT = "house-numbers-model/2"
SUFFIX = {"int8": "", "float": "_float", "dynamic": "_dynamic"}
log = logging.getLogger("export")


def is_detector(model) -> bool:
    """A Keras model with the detector's two named outputs."""
    return sorted(model.output_names) == sorted(OUTPUTS)


def check_detector(model) -> None:
    """Refuse a detector whose input is not the contract's whole-frame uint8 input."""
    shape = tuple(model.inputs[0].shape[1:]) if len(model.inputs) == 1 else None
    if shape != (DETECTOR_HEIGHT, DETECTOR_WIDTH, 3) or model.inputs[0].dtype != "uint8":
        raise cv.ExportError(
            f"detector input is {[(tuple(i.shape), i.dtype) for i in model.inputs]}; the contract "
            f"needs one (None, {DETECTOR_HEIGHT}, {DETECTOR_WIDTH}, 3) uint8 frame"
        )


class Outputs:
    """A .tflite detector run through the interpreter: frames in, dequantised (heatmap, box) out, found by name."""

    def __init__(self, path: Path, heads: dict[str, str], threads: int = 1):
        Interpreter, _ = interpreter_class()
        self.interpreter = Interpreter(model_path=str(path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.outputs = {heads[d["name"]]: d for d in self.interpreter.get_output_details()}

    def invoke(self, frame: np.ndarray) -> None:
        self.interpreter.set_tensor(self.input["index"], frame[None].astype(self.input["dtype"]))
        self.interpreter.invoke()

    def __call__(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        heat, box = [], []
        for f in frames:
            self.invoke(f)
            heat.append(self._get("heatmap"))
            box.append(self._get("box"))
        return np.stack(heat), np.stack(box)

    def _get(self, name: str) -> np.ndarray:
        d = self.outputs[name]
        q = self.interpreter.get_tensor(d["index"])[0]
        scale, zero = d["quantization"]
        # real = scale * (q - zero_point), widened first so uint8 arithmetic cannot wrap
        return scale * (q.astype(np.int32) - zero) if scale else q.astype(np.float32)


def detections(heat: np.ndarray, box: np.ndarray, threshold: float = 0.05) -> list:
    """Per frame [(box in input pixels, score)] above `threshold`."""
    return [decode(h, b, threshold) for h, b in zip(heat, box)]


def export_detector(cfg, model, training: dict) -> dict:
    """The detector's whole export (cfg is export.run.ExportConfig); returns the report."""
    check_detector(model)
    calibration, provenance = load_calibration(cfg.calibration, kind="detector")
    val_frames, val_boxes, val_from = _validation(cfg.model)
    report_out = {"model": str(cfg.model), "kind": "detector", "cpu": f"{platform.machine()} {os.cpu_count()} cores"}
    rows = {}
    eval_frames = eval_boxes = None
    if cfg.eval_data:
        eval_frames, eval_boxes, _ = load_frames(cfg.eval_data)
        n = len(eval_frames) if cfg.eval_limit is None else min(cfg.eval_limit, len(eval_frames))
        eval_frames, eval_boxes = eval_frames[:n], eval_boxes[:n]
        out = model.predict(eval_frames, batch_size=32, verbose=0)
        keras_found = detections(out["heatmap"], out["box"])
    for variant in cfg.variants:
        log.info("converting detector %s ...", variant)
        path = cfg.out / f"{cfg.name}{SUFFIX[variant]}.tflite"
        tmp = path.with_suffix(".tflite.tmp")
        tmp.write_bytes(cv.convert(model, variant, calibration if variant == "int8" else None))
        try:
            info = cv.inspect(tmp)
            if variant == "int8" and info.float_tensors:
                raise cv.ExportError(
                    f"the int8 detector still holds float tensors ({', '.join(info.float_tensors[:3])}...)"
                )
            if sorted(info.heads.values()) != sorted(OUTPUTS):
                raise cv.ExportError(f"converted outputs are named {sorted(info.heads.values())}, not {list(OUTPUTS)}")
            run = Outputs(tmp, info.heads)
            threshold, at = (
                best_f1_threshold(detections(*run(val_frames)), val_boxes) if len(val_frames) else (None, None)
            )
            row = {
                "file": path.name,
                "bytes": tmp.stat().st_size,
                "threshold": threshold,
                "validation": at,
                "latency_1_thread": latency(tmp, info.heads, 1),
                "latency_2_threads": latency(tmp, info.heads, 2),
            }
            if eval_frames is not None:
                t = threshold if threshold is not None else 0.3
                row["eval"] = report(detections(*run(eval_frames)), eval_boxes, t)
                row["eval_keras_same_threshold"] = report(keras_found, eval_boxes, t)
            card = detector_card(
                path.name,
                variant,
                info,
                training,
                provenance if variant == "int8" else None,
                threshold,
                val_from,
                row.get("eval"),
                cfg.eval_data,
            )
            if variant == "int8":
                card["edgetpu"] = {
                    "unsupported_ops": unsupported_ops(cv.op_names(tmp)),
                    **compile_edgetpu(tmp, cfg.out, cfg.compiler),
                }
                report_out["edgetpu"] = card["edgetpu"]
            write_atomic(path.with_suffix(".json"), json.dumps(card, indent=2))
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        rows[variant] = row
    if cfg.eval_data:  # "variants" only with a measured report, as for the reader
        report_out.update({"eval_data": str(cfg.eval_data), "count": len(eval_frames), "variants": rows})
        write_atomic(cfg.out / "report.json", json.dumps(report_out, indent=2))
        write_atomic(cfg.out / "report.md", markdown(report_out))
    else:
        report_out["converted"] = rows
    return report_out


def _validation(model_path: Path) -> tuple[np.ndarray, list, str]:
    """The run's validation scenes (held out of training by its seed), never the dev or test scenes."""
    config = model_path.parent / "config.json"
    if not config.exists():
        return np.zeros((0, DETECTOR_HEIGHT, DETECTOR_WIDTH, 3), np.uint8), [], "no run config beside the model"
    cfg = TrainConfig.load(config)
    splits = load_scene_splits(cfg.data, cfg.val_fraction, cfg.seed, val_max=cfg.val_max)
    frames = np.concatenate([s.frames[s.val] for s in splits])
    boxes = [s.boxes[i] for s in splits for i in s.val]
    return frames, boxes, f"validation scenes of {cfg.data} ({len(frames)} frames): best F1 at IoU 0.5"


def latency(path: Path, heads: dict[str, str], threads: int, runs: int = 100) -> dict:
    """Milliseconds of one invoke on this CPU (after a warm-up): mean and p95."""
    run = Outputs(path, heads, threads)
    frame = np.random.default_rng(0).integers(0, 256, (DETECTOR_HEIGHT, DETECTOR_WIDTH, 3), dtype=np.uint8)
    run.invoke(frame)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        run.invoke(frame)
        times.append((time.perf_counter() - t) * 1000)
    return {
        "mean_ms": round(float(np.mean(times)), 3),
        "p50_ms": round(float(np.median(times)), 3),
        "p95_ms": round(float(np.percentile(times, 95)), 3),
    }


def detector_card(
    file: str,
    variant: str,
    info,
    training: dict,
    calibration: dict | None,
    threshold: float | None,
    threshold_from: str,
    measured: dict | None,
    eval_data,
) -> dict:
    """The detector's model card (kind "detector"), as edge_app's card module reads it."""
    folders = training.get("folders") or []
    clean = bool(folders) and all(is_clean_synthetic(Path(f)) for f in folders)

    def tensor(d):
        scale, zero = d["quantization"]
        return {
            "name": d["name"],
            "shape": [int(v) for v in d["shape"]],
            "dtype": np.dtype(d["dtype"]).name,
            "quantization": {"scale": float(scale), "zero_point": int(zero)},
        }

    return {
        "format": CARD_FORMAT,
        "kind": "detector",
        "file": file,
        "variant": variant,
        "input": tensor(info.input),
        "outputs": {info.heads[d["name"]]: tensor(d) for d in info.outputs},
        "gate": {
            "threshold": threshold,
            "basis": threshold_from
            if threshold is not None
            else "no validation scenes to pick a score threshold on; pass one to the app",
        },
        "preprocessing": {
            "input_size": [DETECTOR_WIDTH, DETECTOR_HEIGHT],
            "stride": DETECTOR_STRIDE,
            "resize": "whole frame -> edge_app.contract.detector_input (box-reduce, then bilinear)",
            "pixels": "RGB uint8 0..255 as decoded; scaling is inside the model",
        },
        "decode": {
            "heatmap": "3x3 local maxima at or above the gate threshold are number centres",
            "box": "(dx, dy) offset in the cell, (w, h) fractions of the input width and height",
            "box_is": "the union of the number's digit boxes",
        },
        "training": {**training, "licence": CLEAN_LICENCE if clean else SVHN_LICENCE},
        "calibration": calibration,
        "measured": None
        if measured is None
        else {
            **{k: measured[k] for k in ("recall", "precision", "mean_iou", "ap50", "threshold")},
            "iou": 0.5,
            "data": str(eval_data),
            "frames": measured["frames"],
        },
        "edgetpu": None,
    }


def markdown(r: dict) -> str:
    """report.json -> a short Markdown table."""
    lines = [
        f"# Detector export report: {r['model']}",
        "",
        f"Measured on `{r['eval_data']}` ({r['count']} frames, IoU 0.5); latency of one invoke on {r['cpu']}.",
        "",
        "| variant | size | score threshold (validation) | recall | precision | mean IoU | AP50 "
        "| latency 1 thr (p50/p95) | 2 thr |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, v in r["variants"].items():
        e = v["eval"]
        l1, l2 = v["latency_1_thread"], v["latency_2_threads"]
        lines.append(
            f"| {name} | {v['bytes'] / 1e6:.3f} MB | {v['threshold']} | {e['recall']:.3f} | "
            f"{e['precision']:.3f} | {e['mean_iou']:.3f} | {e['ap50']:.3f} | "
            f"{l1['p50_ms']:.2f}/{l1['p95_ms']:.2f} ms | {l2['p50_ms']:.2f} ms |"
        )
    if "int8" in r["variants"]:
        v = r["variants"]["int8"]
        drop = (v["eval_keras_same_threshold"]["recall"] - v["eval"]["recall"]) * 100
        lines += [
            "",
            f"Keras float at the int8 threshold: recall {v['eval_keras_same_threshold']['recall']:.3f}, "
            f"precision {v['eval_keras_same_threshold']['precision']:.3f}; int8 recall drop {drop:+.2f} points.",
        ]
    return "\n".join(lines) + "\n"
