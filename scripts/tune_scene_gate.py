"""Choose --detect's two thresholds (the detector's box score, the reader's gate) on tuning scenes.

Reads a report of scripts/eval_scenes.py made with a low --box-threshold (every box it read is kept in
`candidates`), replays the app's choice for each pair of thresholds, and prints the pairs that keep
precision at or above --precision, best recall first. Tune on scenes made from recon/train (never on
the dev scenes, which are built from SVHN test pictures). Example:

    python scripts/eval_scenes.py --data data/val_scenes --box-threshold 0.3 --no-scan --json out/val.json
    python scripts/tune_scene_gate.py out/val.json --precision 0.95
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def replay(frames: list[dict], box_threshold: float, gate: float) -> dict:
    """The app's figures had it run with these thresholds: boxes below box_threshold dropped, the most
    confident reading of the rest reported when it passes the gate."""
    read = right = false_empty = 0
    for f in frames:
        kept = [c for c in f["candidates"] if c["score"] >= box_threshold]
        best = max(kept, key=lambda c: (bool(c["reading"]), c["confidence"]), default=None)  # as most_confident
        if best is None or not best["reading"] or best["confidence"] < gate:
            continue
        read += 1
        right += best["reading"] in f["truth"]
        false_empty += not f["truth"]
    numbered = sum(1 for f in frames if f["truth"])
    empty = len(frames) - numbered
    return {"box_threshold": round(box_threshold, 3), "gate": round(gate, 3), "readings": read,
            "precision": round(right / read, 4) if read else None,
            "number_frames_read_right": round(right / numbered, 4) if numbered else None,
            "false_readings_per_60_empty": round(60 * false_empty / empty, 2) if empty else None}


def sweep(frames: list[dict], low: float, precision: float) -> list[dict]:
    """Every pair on a grid from the report's own box threshold up, keeping those at the precision."""
    rows = [replay(frames, b, g) for b in np.arange(low, 0.951, 0.025) for g in np.arange(0.3, 0.991, 0.01)]
    rows = [r for r in rows if r["precision"] is not None and r["precision"] >= precision]
    return sorted(rows, key=lambda r: (-r["number_frames_read_right"], r["false_readings_per_60_empty"]))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("report", type=Path, help="scripts/eval_scenes.py --json output, made on tuning scenes")
    p.add_argument("--precision", type=float, default=0.95, help="the precision to keep (default: 0.95)")
    p.add_argument("--top", type=int, default=10, help="pairs shown (default: 10)")
    args = p.parse_args(argv)
    run = json.loads(args.report.read_text())
    if "dev_scenes" in run["data"]:
        p.error(f"{run['data']} is built from SVHN test pictures: evaluation only, tune on scenes from recon/train")
    if not all("candidates" in f for f in run["frames"]):
        p.error(f"{args.report} has no candidates: remake it with this version of scripts/eval_scenes.py")
    rows = sweep(run["frames"], run["box_threshold"], args.precision)
    print(f"{len(run['frames'])} frames of {run['data']}; pairs at precision >= {args.precision}, best first:")
    for r in rows[: args.top]:
        print(json.dumps(r))
    if not rows:
        print("none: no pair reaches that precision")
    return 0


if __name__ == "__main__":
    sys.exit(main())
