"""Choose --detect's two thresholds (the detector's box score, the reader's gate) on tuning scenes.

Reads a report of scripts/eval_scenes.py made with a low --box-threshold (every box it read is kept in
`candidates`), replays the app's choice for each pair of thresholds, and prints the pairs that keep
precision at or above --precision, best recall first. Tune on scenes made from recon/train (never on
the dev scenes, which are built from SVHN test pictures). Example:

    python scripts/eval_scenes.py --data data/val_scenes --box-threshold 0.3 --no-scan --json out/val.json
    python scripts/tune_scene_gate.py out/val.json --precision 0.95
    python scripts/tune_scene_gate.py out/val.json --precision 0.95 --write   # the app's default from now on
    python scripts/tune_scene_gate.py out/h73.json out/h71.json --precision 0.95   # several folders, pooled

--write puts the best pair into the detector card as its scene gate, for the reader the report was made
with (named by its SHA-256): the app's --detect uses it when neither --box-threshold nor --threshold is given.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from the repo root

from edge_app.inference.card import SceneGate, card_path, file_sha256, read_card  # noqa: E402


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


def sweep(frames: list[dict], low: float, precision: float, max_false: float | None = None) -> list[dict]:
    """Every pair on a grid from the report's own box threshold up, keeping those at the precision (and at most
    `max_false` false readings per 60 empty frames); most numbers read right first, then fewest false readings,
    then the more precise."""
    rows = [replay(frames, b, g) for b in np.arange(low, 0.951, 0.025) for g in np.arange(0.3, 0.991, 0.01)]
    rows = [r for r in rows if r["precision"] is not None and r["precision"] >= precision
            and (max_false is None or r["false_readings_per_60_empty"] <= max_false)]
    return sorted(rows, key=lambda r: (-r["number_frames_read_right"], r["false_readings_per_60_empty"],
                                       -r["precision"]))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("report", type=Path, nargs="+",
                   help="scripts/eval_scenes.py --json output, made on tuning scenes; several are pooled (same "
                        "detector, reader, looks and test-time views)")
    p.add_argument("--precision", type=float, default=0.95, help="the precision to keep (default: 0.95)")
    p.add_argument("--max-false", type=float, help="and at most this many false readings per 60 empty frames")
    p.add_argument("--top", type=int, default=10, help="pairs shown (default: 10)")
    p.add_argument("--write", action="store_true", help="write the best pair into the report's detector card")
    args = p.parse_args(argv)
    run = pooled([json.loads(r.read_text()) for r in args.report], p.error)
    if "dev_scenes" in run["data"]:
        p.error(f"{run['data']} is built from SVHN test pictures: evaluation only, tune on scenes from recon/train")
    if not all("candidates" in f for f in run["frames"]):
        p.error(f"{' '.join(map(str, args.report))} has no candidates: remake it with this version of "
                "scripts/eval_scenes.py")
    rows = sweep(run["frames"], run["box_threshold"], args.precision, args.max_false)
    also = f" and at most {args.max_false} false readings per 60 empty frames" if args.max_false is not None else ""
    print(f"{len(run['frames'])} frames of {run['data']}; pairs at precision >= {args.precision}{also}, best first:")
    for r in rows[: args.top]:
        print(json.dumps(r))
    if not rows:
        print(f"none: no pair reaches that precision{also}")
    if args.write and rows:
        write_scene_gate(run, rows[0], args.precision, also)
    return 0 if rows or not args.write else 1


def pooled(runs: list[dict], error) -> dict:
    """Several reports as one: their frames together, made with the same detector, reader, looks and views."""
    def setup(r: dict) -> tuple:
        return r.get("detector"), r.get("model"), r.get("looks", 1), r.get("tta", 1)

    if any(setup(r) != setup(runs[0]) for r in runs):
        error("the reports were made with other detectors, readers, looks or --tta: remake them with the same ones")
    return {**runs[0], "data": " + ".join(r["data"] for r in runs),
            "box_threshold": max(r["box_threshold"] for r in runs), "frames": [f for r in runs for f in r["frames"]]}


def write_scene_gate(run: dict, best: dict, precision: float, also: str = "") -> None:
    """The pair into the detector card (written whole or not at all), naming the reader it was tuned with."""
    detector = Path(run["detector"])
    card = read_card(detector, kind="detector")
    card.scene_gate = SceneGate(best["box_threshold"], best["gate"], file_sha256(run["model"]),
                                f"{len(run['frames'])} scenes of {run['data']}: the most number frames read right "
                                f"({best['number_frames_read_right']:.1%}) at precision >= {precision:.0%} "
                                f"({best['precision']:.1%}){also}: {best['false_readings_per_60_empty']} false "
                                "readings per 60 empty frames", run.get("looks", 1), run.get("tta", 1))
    card.write(card_path(detector))
    print(f"wrote the scene gate (for --looks {card.scene_gate.looks}, --tta {card.scene_gate.tta}) into "
          f"{card_path(detector)}")


if __name__ == "__main__":
    sys.exit(main())
