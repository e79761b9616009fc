"""The edge app on real photographs of house numbers (../shared/data/real_numbers): EVALUATION AND TUNING ONLY.

Runs the device side's own code (edge_app, no TensorFlow) on each photo, as `python -m edge_app --source PHOTO`
reads a picture: the detector's looks over the whole frame and its tiles, the reader behind it, the gate. It
also reads each labelled number from its true box (as --roi would), and, with --rapidocr, runs RapidOCR on the
same photos in the same run (its most confident all-digit text) for the time and accuracy to beat.

The photos are split once by a fixed rule (`split`): each list (photos with a number, photos without) sorted by
the SHA-256 of the file name, every second one to the dev half. Choose on `tune`, report `dev`.

    python scripts/eval_real.py --split tune --json out/real_tune.json
    python scripts/eval_real.py --split dev --rapidocr --json docs/eval_real_dev.json --sheet docs/real_dev_sheet.png
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge_app.atomic import write_atomic  # noqa: E402
from edge_app.contract import Box, crop_region, expand_box, load_image  # noqa: E402
from edge_app.detect import LOOKS, DetectAndRead, detect_thresholds, most_confident, scene_views  # noqa: E402
from edge_app.inference.detector import DEFAULT_DETECTOR, NumberDetector, iou  # noqa: E402
from edge_app.inference.reader import DEFAULT_MODEL, HouseNumberModel  # noqa: E402
from edge_app.tta import read_region  # noqa: E402
from scripts.eval_scenes import percentiles  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "real_numbers"
HEIGHT_BINS = ((0.0, 0.03), (0.03, 0.05), (0.05, 0.08), (0.08, 0.15), (0.15, 1.01))  # number height / photo height
MATCH_IOU = 0.5


def split(names: list[str], half: str) -> list[str]:
    """The fixed split: sorted by SHA-256 of the name, odd ranks are `dev`, even ranks `tune` ('all': both)."""
    ranked = sorted(set(names), key=lambda n: hashlib.sha256(n.encode()).hexdigest())
    if half == "all":
        return ranked
    return [n for i, n in enumerate(ranked) if (i % 2 == 1) == (half == "dev")]


def load_set(data: Path, half: str) -> tuple[dict[str, list[dict]], list[str]]:
    """{photo: [{number, box}]} for the half's photos with numbers, and its photos without one."""
    with open(data / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    labelled = defaultdict(list)
    for r in rows:
        labelled[r["file"]].append({"number": r["number"],
                                    "box": Box(*(float(r[k]) for k in ("left", "top", "width", "height")))})
    keep = split(list(labelled), half)
    empty = split((data / "empty.txt").read_text().split(), half)
    return {n: labelled[n] for n in keep}, empty


def _bin(frac: float) -> str:
    lo, hi = next(b for b in HEIGHT_BINS if b[0] <= frac < b[1])
    return f"{100 * lo:g}-{100 * min(hi, 1):g}%"


def rapidocr_reader():
    """RapidOCR (PP-OCR via onnxruntime, 1 thread) -> a function photo path -> (most confident all-digit text, ms)."""
    from rapidocr_onnxruntime import RapidOCR  # pip install rapidocr-onnxruntime (comparison only)

    ocr = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)

    def read(path: Path) -> tuple[str, float]:
        t = time.perf_counter()
        result, _ = ocr(str(path))
        ms = (time.perf_counter() - t) * 1000
        digits = [(float(score), "".join(text.split())) for _, text, score in (result or [])]
        digits = [(s, t) for s, t in digits if t.isdigit() and len(t) <= 5]
        return (max(digits)[1] if digits else ""), ms

    return read


def evaluate(data: Path, half: str, model_path: Path, detector_path: Path, rapidocr: bool) -> dict:
    """Every photo of the half through --detect (and RapidOCR), every labelled number through its true box."""
    model = HouseNumberModel(model_path, threads=1)
    detector = NumberDetector(detector_path, threads=1)
    views = scene_views(detector, model, LOOKS, None)
    box_threshold, gate = detect_thresholds(detector, model, None, None, LOOKS, views)
    finder = DetectAndRead(detector, model, box_threshold, tta=views, gate=gate)
    ocr = rapidocr_reader() if rapidocr else None
    labelled, empty = load_set(data, half)
    photos = []
    for name in list(labelled) + empty:
        image = load_image(data / "images" / name)
        numbers = labelled.get(name, [])
        truth = [n["number"] for n in numbers]
        t = time.perf_counter()
        boxes = finder.find(image)
        found = finder.or_search(image, most_confident(finder.read_boxes(image, boxes)))  # the app's reading
        ms = (time.perf_counter() - t) * 1000
        rec = {"file": name, "size": list(image.shape[1::-1]), "truth": truth, "ms": round(ms, 2),
               "boxes": [{"box": [round(v, 1) for v in d.box], "score": round(d.score, 3)} for d in boxes]}
        if found is not None:
            rec["detect"] = {"reading": found.reading.text, "confidence": round(found.reading.confidence, 4),
                             "box": [round(v, 1) for v in found.detection.box]}
        rec["numbers"] = []
        for n in numbers:
            r = read_region(model.probabilities, crop_region(image, expand_box(n["box"])), 1)
            rec["numbers"].append({
                "number": n["number"], "box": list(n["box"]),
                "height_share": round(n["box"].height / image.shape[0], 4),
                "true_box_reading": r.text, "true_box_confidence": round(r.confidence, 4),
                "found": bool(max((iou(d.box, n["box"]) for d in boxes), default=0.0) >= MATCH_IOU)})
        if ocr is not None:
            text, ocr_ms = ocr(data / "images" / name)
            rec["rapidocr"] = {"reading": text, "ms": round(ocr_ms, 1)}
        photos.append(rec)
    return {"machine": f"{platform.machine()}, {os.cpu_count()} cores, 1 thread", "date": time.strftime("%Y-%m-%d"),
            "data": str(data), "split": half, "model": model_path.name, "detector": detector_path.name,
            "box_threshold": box_threshold, "gate": gate, "tta": views, "photos": photos}


def summarise(run: dict) -> dict:
    """Read right, precision and false readings per mode; the reader on the true boxes; recall by number height."""
    photos = run["photos"]
    numbered = [p for p in photos if p["truth"]]
    empty = [p for p in photos if not p["truth"]]

    def mode(get, gate: float) -> dict:
        read = [p for p in photos if (r := get(p)) and r[0] and r[1] >= gate]
        right = [p for p in read if get(p)[0] in p["truth"]]
        return {"readings": len(read), "read_right": len(right), "photos_with_number": len(numbered),
                "read_right_share": round(len(right) / len(numbered), 4) if numbered else None,
                "precision": round(len(right) / len(read), 4) if read else None,
                "false_on_empty": sum(1 for p in read if not p["truth"]), "empty_photos": len(empty)}

    def detect(p):
        return (p["detect"]["reading"], p["detect"]["confidence"]) if "detect" in p else None

    out = {"split": run["split"], "machine": run.get("machine"), "date": run.get("date"),
           "photos": len(photos), "gate": run["gate"], "box_threshold": run["box_threshold"],
           "detect": mode(detect, run["gate"]), "detect_threshold_0": mode(detect, 0.0),
           "ms": percentiles([p["ms"] for p in photos])}
    nums = [n for p in numbered for n in p["numbers"]]
    out["true_boxes"] = {"numbers": len(nums), "read_right": sum(n["true_box_reading"] == n["number"] for n in nums)}
    out["true_boxes"]["share"] = round(out["true_boxes"]["read_right"] / len(nums), 4) if nums else None
    by = defaultdict(lambda: {"numbers": 0, "found": 0, "read_right": 0})
    for p in numbered:
        for n in p["numbers"]:
            b = by[_bin(n["height_share"])]
            b["numbers"] += 1
            b["found"] += n["found"]
            b["read_right"] += "detect" in p and p["detect"]["reading"] == n["number"] \
                and p["detect"]["confidence"] >= run["gate"]
    out["by_height"] = dict(sorted(by.items(), key=lambda kv: float(kv[0].split("-")[0])))
    if any("rapidocr" in p for p in photos):
        out["rapidocr"] = mode(lambda p: (p["rapidocr"]["reading"], 1.0), 0.0)
        out["rapidocr"]["ms"] = percentiles([p["rapidocr"]["ms"] for p in photos])
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DATA, help="real_numbers folder (labels.csv, empty.txt, images/)")
    p.add_argument("--split", choices=("tune", "dev", "all"), default="tune", help="which half (choose on tune)")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="reader .tflite")
    p.add_argument("--detector", type=Path, default=DEFAULT_DETECTOR, help="detector .tflite")
    p.add_argument("--rapidocr", action="store_true", help="also run RapidOCR (pip install rapidocr-onnxruntime)")
    p.add_argument("--json", type=Path, required=True, help="write the report (summary + per-photo records) here")
    p.add_argument("--sheet", type=Path, help="also draw a contact sheet of the photos (PNG)")
    args = p.parse_args(argv)
    run = evaluate(args.data, args.split, args.model, args.detector, args.rapidocr)
    run["summary"] = summarise(run)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.json, json.dumps(run, indent=1))
    if args.sheet:
        from scripts.real_sheet import draw_sheet

        draw_sheet(run, args.data / "images", args.sheet)
    print(json.dumps(run["summary"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
