"""Score live reading on camera-like clips: the app itself, clip by clip, as a camera would feed it.

Each clip of a `python -m train.synth clips` folder goes through edge_app's own App (detector, tracks,
fusion, gates; no TensorFlow) with 1 interpreter thread, and its reports are scored against clips.json:
- a clip is right when each of its numbers was reported and nothing else was;
- a wrong report is a reported or updated reading that is not one of the clip's numbers;
- time to the first right report counts from the first frame in which all of the number shows.
Everything is also given per kind. The dev clips hold recon/test numbers: EVALUATION ONLY, measure them once;
choose settings on the tuning clips (held-out recon/train numbers, data/val_recon).

    python scripts/eval_clips.py --set tune --json out/clips_tune.json            # builds data/clips_tune if absent
    python scripts/eval_clips.py --set dev --json docs/eval_clips_dev.json
    python scripts/eval_clips.py --set tune --smooth 3/5                          # the per-frame vote instead
    python scripts/eval_clips.py --set tune --track-gate 0.9,0.95,0.99            # a sweep, one report per gate
    python scripts/eval_clips.py --set tune2 --json out/clips_tune2.json          # 220 more tuning clips
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from edge_app import fusion, live  # noqa: E402
from edge_app.app import App, AppConfig  # noqa: E402
from edge_app.atomic import write_atomic  # noqa: E402
from edge_app.inference.detector import DEFAULT_DETECTOR  # noqa: E402
from edge_app.inference.reader import DEFAULT_MODEL  # noqa: E402
from edge_app.outputs.base import Output  # noqa: E402
from edge_app.smoothing import TRACKS, parse_smooth  # noqa: E402

SVHN = ROOT.parent / "shared" / "data" / "svhn"
SETS = {  # name: (folder, numbers, seed, clips per kind); fixed, so every machine scores the same clips
    "tune": (ROOT / "data" / "clips_tune", ROOT / "data" / "val_recon", 3001, 10),
    "tune2": (ROOT / "data" / "clips_tune2", ROOT / "data" / "val_recon", 3003, 20),  # more tuning clips: 0 wrong
    # reports in 90 clips said little about a 99% precision per report
    "dev": (ROOT / "data" / "clips_dev", SVHN / "recon" / "test", 3002, 10),
}


class Collect(Output):
    """Keeps every event of a run in memory."""

    key = "collect"

    def __init__(self) -> None:
        self.events = []

    def write(self, event) -> None:
        self.events.append(event)


def build(name: str) -> Path:
    """The named clip set, drawn now when it is not there (two to four minutes on two cores)."""
    folder, numbers, seed, per_kind = SETS[name]
    if not (folder / "clips.json").is_file():
        if not numbers.is_dir():
            sys.exit(f"error: {numbers} is missing; for the tuning clips draw the reader's held-out pictures: "
                     "python scripts/validation_pictures.py --folder ../shared/data/svhn/recon/train "
                     "--val-fraction 0.1 --out data/val_recon")
        subprocess.run([sys.executable, "-m", "train.synth", "clips", "--out", str(folder), "--numbers", str(numbers),
                        "--per-kind", str(per_kind), "--seed", str(seed), "--force"], check=True, cwd=ROOT)
    return folder


class Replay:
    """Remembers the detector's boxes of each frame and the reader's heads of each crop, so a sweep runs them once
    and replays only the tracks and the fusion (timings are taken from the first pass only)."""

    def __init__(self) -> None:
        self.boxes, self.heads, self.clip = {}, {}, None
        self.find = live.all_boxes

    def all_boxes(self, detector, image, *args):
        key = (self.clip, hashlib.sha1(image.tobytes()).hexdigest())
        if key not in self.boxes:
            self.boxes[key] = self.find(detector, image, *args)
        return self.boxes[key]

    def reader(self, probabilities):
        def remembered(pixels):
            key = hashlib.sha1(pixels.tobytes()).hexdigest()
            if key not in self.heads:
                self.heads[key] = probabilities(pixels)
            return self.heads[key]
        return remembered


def run_clip(path: Path, smooth, track_gate: float | None, replay: Replay | None = None,
             detector: Path = DEFAULT_DETECTOR, model: Path = DEFAULT_MODEL) -> tuple[list, list[float]]:
    """The app on one clip: its events and per-frame latencies (ms)."""
    collect = Collect()
    app = App(AppConfig(model=model, source=str(path), threads=1, quiet=True,
                        smooth=smooth, track_gate=track_gate, detector=detector), outputs=[collect])
    if replay is not None:
        replay.clip = path
        app.model.probabilities = replay.reader(app.model.probabilities)
    latencies = []
    process = app.process

    def timed(frame, smoother):
        view = process(frame, smoother)
        if view.latency_ms is not None:
            latencies.append(view.latency_ms)
        return view

    app.process = timed
    app.run()
    return collect.events, latencies


def score(clips: list[dict], results: dict[str, list], fps: float) -> dict:
    """Right clips, wrong and false reports and time to the first right report, overall and per kind."""
    rows = []
    for clip in clips:
        events = [e for e in results[clip["file"]] if e.event != "gone"]
        truth = set(clip["numbers"])
        said = [e.reading for e in events]
        wrong = sum(r not in truth for r in said)
        delays = []
        for k, number in enumerate(clip["numbers"]):
            whole = next((i for i, f in enumerate(clip["frames"]) if any(s[0] == k and s[2] for s in f)), None)
            first = next((e.frame for e in events if e.reading == number), None)
            if whole is not None and first is not None:
                delays.append(max(0.0, (first - whole) / fps))
        rows.append({"file": clip["file"], "kind": clip["kind"], "numbers": clip["numbers"], "reported": said,
                     "right": bool(truth) and truth <= set(said) and wrong == 0, "wrong": wrong,
                     "delays_s": delays})
    return {"overall": _summary(rows), "kinds": {k: _summary([r for r in rows if r["kind"] == k])
                                                   for k in dict.fromkeys(r["kind"] for r in rows)}, "clips": rows}


def _summary(rows: list[dict]) -> dict:
    numbered = [r for r in rows if r["numbers"]]
    empty = [r for r in rows if not r["numbers"]]
    delays = [d for r in numbered for d in r["delays_s"]]
    out = {"clips": len(rows), "with_number": len(numbered), "empty": len(empty),
           "false_on_empty": sum(len(r["reported"]) for r in empty),
           "wrong_reports": sum(r["wrong"] for r in numbered)}
    if numbered:
        out["right"] = sum(r["right"] for r in numbered)
        out["right_share"] = round(out["right"] / len(numbered), 4)
        out["median_first_right_s"] = round(float(np.median(delays)), 3) if delays else None
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--set", choices=sorted(SETS), default="tune", help="which fixed clip set (built if absent)")
    p.add_argument("--clips", type=Path, help="another train.synth clips folder instead of --set")
    p.add_argument("--smooth", type=parse_smooth, default=TRACKS, help="the app's --smooth (default tracks)")
    p.add_argument("--track-gate", default="", help="the app's --track-gate; comma-separated values sweep it")
    p.add_argument("--max-views", default="", help="fusion.MAX_VIEWS; comma-separated values sweep it")
    p.add_argument("--min-views", default="", help="live.MIN_VIEWS; comma-separated values sweep it")
    p.add_argument("--tta", default="", help="live.VIEWS; comma-separated values sweep it")
    p.add_argument("--detector", type=Path, default=DEFAULT_DETECTOR,
                   help="detector .tflite (default: the shipped one)")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="reader .tflite (default: the shipped one)")
    p.add_argument("--json", type=Path, help="write the report here (a sweep: one per setting, NAME-VIEWS-GATE.json)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    folder = args.clips or build(args.set)
    meta = json.loads((folder / "clips.json").read_text())
    gates = [float(g) for g in args.track_gate.split(",") if g] or [None]
    views = [float(v) for v in args.max_views.split(",") if v] or [fusion.MAX_VIEWS]
    least = [int(v) for v in args.min_views.split(",") if v] or [live.MIN_VIEWS]
    tta = [int(v) for v in args.tta.split(",") if v] or [live.VIEWS]
    sweep = list(itertools.product(tta, views, least, gates))
    replay = Replay() if len(sweep) > 1 else None
    if replay:
        live.all_boxes = replay.all_boxes
    first = []
    for each, max_views, min_views, gate in sweep:
        fusion.MAX_VIEWS, live.MIN_VIEWS, live.VIEWS = max_views, min_views, each
        start = time.perf_counter()
        results, latencies = {}, []
        for clip in meta["clips"]:
            results[clip["file"]], lat = run_clip(folder / clip["file"], args.smooth, gate, replay, args.detector,
                                                    args.model)
            latencies += lat
        latencies = first = first or latencies  # a replay's frames skip the models: time the first pass
        report = score(meta["clips"], results, meta["fps"])
        report.update({
            "clips_folder": str(folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder),
            "set": None if args.clips else args.set, "numbers": meta["numbers"], "seed": meta["seed"],
            "smooth": args.smooth if isinstance(args.smooth, str) else "/".join(map(str, args.smooth or ())) or "off",
            "track_gate": gate or live.TRACK_GATE, "max_views": max_views, "min_views": min_views, "tta": each,
            "frame_ms_p50": round(float(np.median(latencies)), 2),
            "frame_ms_p95": round(float(np.percentile(latencies, 95)), 2), "threads": 1,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores", "date": date.today().isoformat(),
            "seconds": round(time.perf_counter() - start, 1)})
        o = report["overall"]
        worst = min(report["kinds"].items(), key=lambda kv: kv[1].get("right_share", 1.0))
        print(f"tta {each} views {max_views:g} min {min_views} gate {gate or live.TRACK_GATE}: "
              f"right {o['right']}/{o['with_number']} ({o['right_share']:.1%}), wrong reports "
              f"{o['wrong_reports']}, false on empty {o['false_on_empty']}/{o['empty']}, first right "
              f"{o['median_first_right_s']} s median, worst kind {worst[0]} {worst[1].get('right_share')}, "
              f"{report['frame_ms_p50']} ms p50")
        if args.json:
            name = f"{args.json.stem}-{each}-{max_views:g}-{min_views}-{gate}.json"
            out = args.json if not replay else args.json.with_name(name)
            out.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(out, json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
