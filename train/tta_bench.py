"""Test-time views: accuracy against milliseconds for 1..7 views of each region, on validation data.

Reads a .tflite model through the edge app's own wrapper on the held-out part of training folders
(split exactly as `python -m train` did with the same --val-fraction/--val-max/--seed), never on test.

    python -m train.tta_bench --model models/house_numbers.tflite \\
        --data data/focus6k,../shared/data/svhn/recon/train --val-fraction 0.2 --val-max 1000 --json tta.json
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from edge_app import cli
from edge_app.atomic import write_json
from edge_app.contract import TTA_VIEWS, ContractError
from edge_app.interpreter import HouseNumberModel, ModelError
from edge_app.timing import time_calls
from edge_app.tta import read_region, view_probabilities

from .cache import DataError
from .folders import load_splits, parse_data, refuse_test_folders
from .metrics import score


def measure(model_path: Path, data: str, val_fraction: float, val_max: int, seed: int, views: list[int]) -> dict:
    """Accuracy per folder and view count, and ms per region (views + averaging + decode, 1 thread).

    'ms' is the fastest of 30 timed reads of each of 20 regions, averaged: on a shared CPU that is the
    closest to an idle machine; 'ms_median' is the median of the same timings.
    """
    model = HouseNumberModel(model_path, threads=1)
    report = {"model": str(model_path), "data": data, "views": views, "folders": {}, "count": {}}
    first = None
    for split in load_splits(data, val_fraction, seed, val_max=val_max):
        regions, targets = np.asarray(split.crops.regions[split.val]), split.crops.targets[split.val]
        first = regions[:20] if first is None else first
        report["count"][split.name] = len(targets)
        accuracies = {}
        for n in views:
            probs = [view_probabilities(model.probabilities, r, n) for r in regions]
            lengths, digits = np.stack([p[0] for p in probs]), np.stack([p[1] for p in probs])
            accuracies[n] = score(lengths, digits, targets)["sequence_accuracy"]
        report["folders"][split.name] = accuracies
    report["mean"] = {n: float(np.mean([f[n] for f in report["folders"].values()])) for n in views}
    report["ms"], report["ms_median"] = {}, {}
    for n in views:
        ms = np.array([time_calls(lambda _, r=r, n=n: read_region(model.probabilities, r, n), 30, warmup=0)
                       for r in first])
        report["ms"][n] = round(float(ms.min(axis=1).mean()), 3)
        report["ms_median"][n] = round(float(np.median(ms)), 3)
    return report


def main(argv=None) -> int:
    p = cli.parser("python -m train.tta_bench", __doc__)
    p.add_argument("--model", type=Path, required=True, help="a .tflite model with its model card")
    p.add_argument("--data", required=True, help="training folders, comma-separated (their validation parts are read)")
    p.add_argument("--val-fraction", type=cli.float_range(0.0, 0.9), default=0.2, help="as the run was trained")
    p.add_argument("--val-max", type=cli.positive_int, default=1000, help="as the run was trained")
    p.add_argument("--seed", type=cli.nonnegative_int, default=0, help="as the run was trained")
    p.add_argument("--views", default=",".join(str(n) for n in range(1, len(TTA_VIEWS) + 1)),
                   help="numbers of views to try (default 1..7)")
    p.add_argument("--json", type=cli.output_file, help="write the report to this file")
    args = p.parse_args(argv)
    cli.setup_logging(args.verbose, args.quiet)
    try:
        views = [int(v) for v in args.views.split(",")]
    except ValueError:
        p.error(f"--views {args.views!r}: expected comma-separated numbers of views, e.g. 1,3,5")
    if not views or not all(1 <= v <= len(TTA_VIEWS) for v in views):
        p.error(f"--views {args.views!r}: each must be 1..{len(TTA_VIEWS)}")
    return cli.run(lambda: _main(args, views), errors=(DataError, ModelError, ContractError))


def _main(args, views: list[int]) -> int:
    refuse_test_folders([f for f, _ in parse_data(args.data)], "tuning")
    report = measure(args.model, args.data, args.val_fraction, args.val_max, args.seed, views)
    for n in views:
        print(f"{n} view(s): " + " ".join(f"{k}={v[n]:.3f}" for k, v in report["folders"].items())
              + f" mean={report['mean'][n]:.3f}  {report['ms'][n]:.2f} ms/region (median {report['ms_median'][n]:.2f})")
    if args.json:
        write_json(args.json, report)
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
