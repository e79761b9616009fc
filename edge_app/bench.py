"""Latency of the model alone and of the whole per-frame path (crop + resize + invoke + decode).

Example:

    python -m edge_app.bench --model models/house_numbers.tflite --runs 500 --json bench.json
"""

from __future__ import annotations

import json
import logging
import platform
import sys
from pathlib import Path

import numpy as np

from . import cli
from .atomic import write_atomic
from .contract import Box, model_input
from .interpreter import DEFAULT_MODEL, HouseNumberModel, ModelError
from .timing import latency_stats, time_calls

log = logging.getLogger("edge_app.bench")


def _stats(times_ms) -> dict:
    s = latency_stats(times_ms)
    return {k: s[k] for k in ("p50_ms", "p95_ms", "max_ms", "fps")}


def bench(model_path: Path, runs: int = 300, threads: int = 1, edgetpu: bool = False) -> dict:
    """Time `runs` model invocations and `runs` full frames (a 640x480 frame, one ROI) after a warm-up."""
    model = HouseNumberModel(model_path, threads=threads, edgetpu=edgetpu)
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)  # content does not change a CNN's latency
    roi = Box(200, 180, 240, 120)
    pixels = model_input(frame, roi)
    alone = time_calls(lambda _: model.probabilities(pixels), runs, warmup=10)
    whole = time_calls(lambda _: model.read(model_input(frame, roi)), runs)
    return {"threads": threads, "model": _stats(alone), "frame": _stats(whole)}


def main(argv=None) -> int:
    p = cli.parser("python -m edge_app.bench", __doc__)
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="the .tflite to time (default: the shipped model)")
    p.add_argument("--runs", type=cli.positive_int, default=300, help="timed runs per measurement")
    p.add_argument("--threads", type=cli.threads, nargs="+", default=[1, 2, 4], help="thread counts to try")
    p.add_argument("--edgetpu", action="store_true", help="time a *_edgetpu.tflite on the Edge TPU")
    p.add_argument("--json", type=cli.output_file, help="write the results to this file")
    args = p.parse_args(argv)
    cli.setup_logging(args.verbose, args.quiet)
    return cli.run(lambda: _main(args), errors=(ModelError,))


def _main(args) -> int:
    rows = [bench(args.model, args.runs, t, args.edgetpu) for t in args.threads]
    result = {"model": str(args.model), "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
              "runs": args.runs, "results": rows}
    print(f"{'threads':>7}  {'model p50/p95 ms':>17}  {'model fps':>9}  {'frame p50/p95 ms':>17}  {'frame fps':>9}")
    for r in rows:
        m, f = r["model"], r["frame"]
        print(f"{r['threads']:>7}  {m['p50_ms']:>8.2f}/{m['p95_ms']:<8.2f}  {m['fps']:>9.1f}  "
              f"{f['p50_ms']:>8.2f}/{f['p95_ms']:<8.2f}  {f['fps']:>9.1f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(args.json, json.dumps(result, indent=2))
        log.info("wrote %s", args.json)
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
