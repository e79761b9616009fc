"""Latency of the model alone and of the whole per-frame path (crop + resize + invoke + decode).

Example:

    python -m edge_app.bench --model models/house_numbers.tflite --runs 500 --json bench.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from .atomic import write_atomic
from .contract import Box, model_input
from .inference.card import ModelError
from .inference.reader import DEFAULT_MODEL, HouseNumberModel


def _stats(times_ms: list[float]) -> dict:
    t = np.asarray(times_ms)
    return {"p50_ms": round(float(np.percentile(t, 50)), 3), "p95_ms": round(float(np.percentile(t, 95)), 3),
            "max_ms": round(float(t.max()), 3), "fps": round(1000.0 / float(t.mean()), 1)}


def bench(model_path: Path, runs: int = 300, threads: int = 1, edgetpu: bool = False) -> dict:
    """Time `runs` model invocations and `runs` full frames (a 640x480 frame, one ROI) after a warm-up."""
    model = HouseNumberModel(model_path, threads=threads, edgetpu=edgetpu)
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)  # content does not change a CNN's latency
    roi = Box(200, 180, 240, 120)
    pixels = model_input(frame, roi)
    for _ in range(10):
        model.read(pixels)
    alone, whole = [], []
    for _ in range(runs):
        t = time.perf_counter()
        model.probabilities(pixels)
        alone.append((time.perf_counter() - t) * 1000)
    for _ in range(runs):
        t = time.perf_counter()
        model.read(model_input(frame, roi))
        whole.append((time.perf_counter() - t) * 1000)
    return {"threads": threads, "model": _stats(alone), "frame": _stats(whole)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m edge_app.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="the .tflite to time (default: the shipped model)")
    p.add_argument("--runs", type=int, default=300, help="timed runs per measurement (default 300)")
    p.add_argument("--threads", type=int, nargs="*", default=[1, 2, 4], help="thread counts to try (default 1 2 4)")
    p.add_argument("--edgetpu", action="store_true", help="time a *_edgetpu.tflite on the Edge TPU")
    p.add_argument("--json", type=Path, help="write the results here")
    args = p.parse_args(argv)
    try:
        rows = [bench(args.model, args.runs, t, args.edgetpu) for t in args.threads]
    except ModelError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    result = {"model": str(args.model), "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
              "runs": args.runs, "results": rows}
    print(f"{'threads':>7}  {'model p50/p95 ms':>17}  {'model fps':>9}  {'frame p50/p95 ms':>17}  {'frame fps':>9}")
    for r in rows:
        m, f = r["model"], r["frame"]
        print(f"{r['threads']:>7}  {m['p50_ms']:>8.2f}/{m['p95_ms']:<8.2f}  {m['fps']:>9.1f}  {f['p50_ms']:>8.2f}/{f['p95_ms']:<8.2f}  {f['fps']:>9.1f}")
    if args.json:
        write_atomic(args.json, json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
