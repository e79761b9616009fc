"""End-to-end evaluation of the edge app on a scene folder: --detect against --boxes and the old --scan.

Runs the device side's own code (edge_app: detector, contract, reader, gate; no TensorFlow) on every
frame of a folder written by `python -m train.synth scenes` (or scripts/make_dev_scenes.py) and writes
a JSON report. The dev scenes are built from SVHN test pictures: EVALUATION ONLY, never tune on them
(tune on scenes made from recon/train). Example:

    python scripts/eval_scenes.py --data data/dev_scenes --json out/eval_scenes.json
    python scripts/eval_scenes.py --data data/val_scenes --json out/val.json --no-scan   # for tuning
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from edge_app.atomic import write_atomic  # noqa: E402
from edge_app.contract import TTA_VIEWS, Box, digit_region, load_image, model_input  # noqa: E402
from edge_app.detect import LOOKS, DetectAndRead, detect_thresholds, most_confident, scene_views  # noqa: E402
from edge_app.inference.detector import DEFAULT_DETECTOR, NumberDetector, iou  # noqa: E402
from edge_app.inference.reader import DEFAULT_MODEL, HouseNumberModel  # noqa: E402
from edge_app.regions import scan_windows  # noqa: E402
from edge_app.scenes import read_scenes  # noqa: E402
from edge_app.tiles import LEVELS, STILL_ABOVE  # noqa: E402

MATCH_IOU = 0.5  # a detection finds a number when their boxes overlap this much


def _text(number) -> str:
    return "".join(map(str, number.digits))


def _best(model, image, regions):
    """The app's best reading over regions (Reading.rank; the first of equals) -> (reading, region)."""
    return max(((model.read(model_input(image, region)), region) for region in regions), key=lambda f: f[0].rank())


def evaluate(data: Path, model_path: Path, detector_path: Path, box_threshold: float | None, scan: bool,
             limit: int | None = None, scales: tuple[float, ...] = (1.0,), gate: float | None = None,
             looks: int = LOOKS, tta: int | None = None, levels: tuple[float, ...] = LEVELS,
             all_tiles: bool = False) -> dict:
    """Every frame through --detect, --boxes (frames with numbers) and optionally --scan; per-frame records.

    The thresholds are the app's: the flags given, else the detector card's scene gate, else each card's own.
    """
    model = HouseNumberModel(model_path, threads=1)
    detector = NumberDetector(detector_path, threads=1)
    tta = scene_views(detector, model, looks, tta)  # the app's default: the scene gate's views
    threshold, detect_gate = detect_thresholds(detector, model, box_threshold, gate, looks, tta)
    # tiles: the app's picture default, or --tiles N; the gate lets a picture with tiles be searched as the app does
    finder = DetectAndRead(detector, model, threshold, scales=scales, looks=looks, tta=tta, levels=levels,
                           tiles_above=0 if all_tiles else STILL_ABOVE, gate=detect_gate)
    scenes = read_scenes(data)[:limit]
    frames = []
    for i, scene in enumerate(scenes):
        image = load_image(data / scene.name)
        truth = [_text(n) for n in scene.numbers]
        true_boxes = scene.number_boxes()
        t = time.perf_counter()
        detections = finder.find(image)  # the boxes the app would read (with two looks, the second's)
        candidates = finder.read_boxes(image, detections)  # finder.candidates(image), without a tracker
        found = finder.or_search(image, most_confident(candidates))  # a picture with tiles may be searched further
        detect_ms = (time.perf_counter() - t) * 1000
        rec = {"name": scene.name, "truth": truth, "true_boxes": [list(map(float, b)) for b in true_boxes],
               "detections": [{"box": list(map(float, d.box)), "score": d.score} for d in detections],
               "detect_ms": detect_ms,
               "best_iou": [max((iou(b, d.box) for d in detections), default=0.0) for b in true_boxes]}
        rec["candidates"] = [{"score": c.detection.score, "reading": c.reading.text,
                              "confidence": c.reading.confidence} for c in candidates]
        if found is not None:
            rec["detect"] = {"reading": found.reading.text, "confidence": found.reading.confidence,
                             "box": list(map(float, found.detection.box)),
                             "box_iou": max((iou(found.detection.box, b) for b in true_boxes), default=0.0)}
        if scene.numbers:  # --boxes: each number's labelled region, the most confident wins
            r, region = _best(model, image, [digit_region(n.boxes) for n in scene.numbers])
            rec["boxes"] = {"reading": r.text, "confidence": r.confidence}
        if scan:
            t = time.perf_counter()
            r, region = _best(model, image, scan_windows(image.shape[1], image.shape[0]))
            rec["scan"] = {"reading": r.text, "confidence": r.confidence, "ms": (time.perf_counter() - t) * 1000}
        frames.append(rec)
        if (i + 1) % 50 == 0:
            print(f"  {i + 1}/{len(scenes)} frames", file=sys.stderr)
    return {"machine": f"{platform.machine()}, {os.cpu_count()} cores, 1 thread", "date": time.strftime("%Y-%m-%d"),
            "data": str(data), "model": str(model_path), "detector": str(detector_path), "box_threshold": threshold,
            "looks": looks, "tta": tta, "levels": list(levels), "all_tiles": all_tiles, "scales": list(scales),
            "gate": model.threshold if gate is None else gate,
            "detect_gate": detect_gate,
            "frames": frames}


def summarise(run: dict) -> dict:
    """The acceptance figures from the per-frame records, for each mode at its gate and at threshold 0."""
    frames = run["frames"]
    numbered = [f for f in frames if f["truth"]]
    empty = [f for f in frames if not f["truth"]]
    out = {"machine": run.get("machine"), "date": run.get("date"),
           "frames": len(frames), "number_frames": len(numbered), "empty_frames": len(empty),
           "box_threshold": run["box_threshold"], "looks": run.get("looks", 1), "gate": run["gate"],
           "detect_gate": run["detect_gate"]}
    for mode in ("detect", "boxes", "scan"):
        if mode != "detect" and not any(mode in f for f in frames):
            continue
        gate = run["detect_gate"] if mode == "detect" else run["gate"]
        for name, g in ((mode, gate), (f"{mode}_threshold_0", 0.0)):
            read = [f for f in frames if mode in f and f[mode]["reading"] and f[mode]["confidence"] >= g]
            right = [f for f in read if f[mode]["reading"] in f["truth"]]
            false_empty = sum(1 for f in read if not f["truth"])
            out[name] = {
                "readings": len(read),
                "precision": round(len(right) / len(read), 4) if read else None,
                "number_frames_read_right": round(len(right) / len(numbered), 4) if numbered else None,
                "false_readings_on_empty": false_empty,
                "false_readings_per_60_empty": round(60 * false_empty / len(empty), 2) if empty else None,
            }
    if "boxes" in out:
        out["threshold_0_gap_points"] = round(100 * (out["boxes_threshold_0"]["number_frames_read_right"]
                                                     - out["detect_threshold_0"]["number_frames_read_right"]), 2)
    out["detector"] = _detector_figures(frames)
    out["misses"] = _misses(numbered)
    out["latency_ms"] = {"detect_frame": percentiles([f["detect_ms"] for f in frames])}
    if any("scan" in f for f in frames):
        out["latency_ms"]["scan_frame"] = percentiles([f["scan"]["ms"] for f in frames])
    return out


def _detector_figures(frames: list[dict]) -> dict:
    numbers = [v for f in frames for v in f["best_iou"]]
    found = [v for v in numbers if v >= MATCH_IOU]
    boxes = sum(len(f["detections"]) for f in frames)
    matched = sum(sum(1 for d in f["detections"] if any(_iou(d["box"], b) >= MATCH_IOU for b in f["true_boxes"]))
                  for f in frames)
    return {"numbers": len(numbers), "recall_at_0.5": round(len(found) / len(numbers), 4) if numbers else None,
            "boxes": boxes, "precision_at_0.5": round(matched / boxes, 4) if boxes else None,
            "mean_iou_of_found": round(float(np.mean(found)), 4) if found else None,
            "empty_frames_with_a_box": sum(1 for f in frames if not f["truth"] and f["detections"])}


def _iou(a, b) -> float:
    return iou(Box(*a), Box(*b))


def _misses(numbered: list[dict]) -> dict:
    """Why number frames were not read right at threshold 0: no box, a box the reader misread though the
    labelled region reads right (the box's fault), or both wrong (the reader's)."""
    out = {"no_box": 0, "box_off_target": 0, "box_ok_reader_wrong_but_boxes_right": 0, "reader_wrong_on_both": 0}
    for f in numbered:
        d = f.get("detect")
        if d is not None and d["reading"] in f["truth"]:
            continue
        if d is None:
            out["no_box"] += 1
        elif d["box_iou"] < MATCH_IOU:
            out["box_off_target"] += 1
        elif f["boxes"]["reading"] in f["truth"]:
            out["box_ok_reader_wrong_but_boxes_right"] += 1
        else:
            out["reader_wrong_on_both"] += 1
    return out


def percentiles(ms: list[float]) -> dict:
    """p50 and p95 of timings in ms, rounded to microseconds."""
    t = np.asarray(ms)
    return {"p50": round(float(np.percentile(t, 50)), 3), "p95": round(float(np.percentile(t, 95)), 3)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="scene folder (scenes.json, digitStruct.csv, N.png)")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="reader .tflite")
    p.add_argument("--detector", type=Path, default=DEFAULT_DETECTOR, help="detector .tflite")
    p.add_argument("--box-threshold", type=float, help="detector score threshold (default: the detector card's "
                   "scene gate, else its own)")
    p.add_argument("--threshold", type=float, help="reader gate (default: the detector card's scene gate behind "
                   "a detector, the reader card's own for --boxes and --scan)")
    p.add_argument("--no-scan", dest="scan", action="store_false", help="skip the old --scan (66 ms a frame)")
    p.add_argument("--limit", type=int, help="only the first N frames")
    p.add_argument("--scales", type=lambda t: tuple(float(v) for v in t.split(",")), default=(1.0,),
                   help="box sizes read and averaged, e.g. 1,1.15")
    p.add_argument("--looks", type=int, choices=(1, 2), default=LOOKS, help="detector looks per frame, as the app's")
    p.add_argument("--tta", type=int, choices=range(1, len(TTA_VIEWS) + 1), metavar="N",
                   help="test-time views per box, as the app's --tta (default: the detector's scene gate's, else 1)")
    p.add_argument("--levels", type=lambda t: tuple(float(v) for v in t.split(",")), default=LEVELS,
                   help="the first look's window heights as shares of the frame's (edge_app.tiles.LEVELS); 1 looks "
                   "at the whole frame only")
    p.add_argument("--all-tiles", action="store_true",
                   help="every frame gets all its tiles, as the app's pictures with --tiles N (default: only frames "
                   "larger than 640x480, as the app's pictures without --tiles)")
    p.add_argument("--json", type=Path, required=True, help="write the report (summary + per-frame records) here")
    args = p.parse_args(argv)
    run = evaluate(args.data, args.model, args.detector, args.box_threshold, args.scan, args.limit, args.scales,
                   args.threshold, args.looks, args.tta, args.levels, args.all_tiles)
    run["summary"] = summarise(run)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.json, json.dumps(run, indent=1))
    print(json.dumps(run["summary"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
