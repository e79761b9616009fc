"""Export of the number detector: int8 (uint8 frame in, uint8 heatmap and boxes out), its card, its parity report.

The reader's path (export/run.py): each variant is converted into a staging folder with a working card,
run through the edge app's own NumberDetector for its score threshold (best F1 at IoU 0.5 on the run's
VALIDATION scenes) and, with --eval-data, measured; then each card is written once and its model moved
beside it. The dev scenes given as --eval-data are only measured, never tuned on.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
from pathlib import Path

import numpy as np

from edge_app.atomic import write_atomic
from edge_app.contract import DETECTOR_HEIGHT, DETECTOR_WIDTH
from edge_app.inference.card import Gate, card_path, file_sha256
from edge_app.inference.detector import NumberDetector
from edge_app.timing import latency_stats, time_calls
from train.config import TrainConfig
from train.detection_metrics import best_f1_threshold, report
from train.scene_data import found_in, load_frames, load_scene_splits

from . import convert as cv
from .edgetpu import compile_edgetpu, unsupported_ops
from .run import convert_variant

log = logging.getLogger("export")
KERAS_THRESHOLD = 0.05  # the lowest score kept from the float model; thresholds are applied when scoring


def run_frames(detector: NumberDetector, frames: np.ndarray, threshold: float = KERAS_THRESHOLD) -> list:
    """Detections of each (already downscaled) frame through the .tflite, as the app decodes them."""
    outs = [detector.run(f) for f in frames]
    return found_in(np.stack([o["heatmap"] for o in outs]), np.stack([o["box"] for o in outs]), threshold)


def export_detector(cfg, model, calibration: np.ndarray, provenance: dict, training: dict) -> dict:
    """The detector's whole export (cfg is export.run.ExportConfig, already preflighted); returns the report."""
    val_frames, val_boxes, val_from = _validation(cfg.model)
    report_out = {"model": str(cfg.model), "kind": "detector", "cpu": f"{platform.machine()} {os.cpu_count()} cores"}
    eval_frames = eval_boxes = keras_found = None
    if cfg.eval_data:
        eval_frames, eval_boxes, _ = load_frames(cfg.eval_data)
        n = len(eval_frames) if cfg.eval_limit is None else min(cfg.eval_limit, len(eval_frames))
        eval_frames, eval_boxes = eval_frames[:n], eval_boxes[:n]
        out = model.predict(eval_frames, batch_size=32, verbose=0)
        keras_found = found_in(out["heatmap"], out["box"])

    staging = cfg.out / f".{cfg.name}.staging"  # the variants wait here until their cards are complete
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        cards, rows = {}, {}
        for variant in cfg.variants:
            log.info("converting detector %s ...", variant)
            card = convert_variant(staging, cfg, model, variant, calibration if variant == "int8" else None,
                                   provenance, training, kind="detector")
            staged = staging / card.file
            detector = NumberDetector(staged, threads=1)
            threshold, at = best_f1_threshold(run_frames(detector, val_frames), val_boxes) if len(val_frames) \
                else (None, None)
            card.gate = Gate(threshold, val_from) if threshold is not None else \
                Gate.none("no validation scenes to pick a score threshold on; pass one to the app")
            row = {"file": card.file, "bytes": staged.stat().st_size, "threshold": threshold, "validation": at,
                   "latency_1_thread": latency(staged, 1), "latency_2_threads": latency(staged, 2)}
            if eval_frames is not None:
                t = threshold if threshold is not None else 0.3
                row["eval"] = report(run_frames(detector, eval_frames), eval_boxes, t)
                row["eval_keras_same_threshold"] = report(keras_found, eval_boxes, t)
                keys = ("recall", "precision", "mean_iou", "ap50", "threshold", "frames")
                card.measured = {**{k: row["eval"][k] for k in keys}, "iou": 0.5, "data": str(cfg.eval_data)}
            if variant == "int8":
                card.edgetpu = {"unsupported_ops": unsupported_ops(cv.op_names(staged)),
                                **compile_edgetpu(staged, cfg.out, cfg.compiler)}
                report_out["edgetpu"] = card.edgetpu
            cards[variant], rows[variant] = card, row
        for card in cards.values():  # each card written once, then its model moved beside it
            card.sha256 = file_sha256(staging / card.file)  # the card names its model: a stray copy is refused
            card.write(card_path(cfg.out / card.file))
            os.replace(staging / card.file, cfg.out / card.file)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
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


def latency(path: Path, threads: int, runs: int = 100) -> dict:
    """Milliseconds of one detector invoke on this CPU, after a warm-up (the benchmarks' one timing loop)."""
    detector = NumberDetector(path, threads=threads)
    frame = np.random.default_rng(0).integers(0, 256, (DETECTOR_HEIGHT, DETECTOR_WIDTH, 3), dtype=np.uint8)
    return latency_stats(time_calls(lambda _: detector.run(frame), runs))


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
