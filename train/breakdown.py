"""Sequence accuracy of models by number length and by digit height (median box height in picture px).

    python -m train.breakdown --models models/house_numbers.tflite,new.tflite \\
        --data ../shared/data/svhn/recon/test --views 1 --json breakdown.json

Only reports: a test folder may be read here, as by train.evaluate, but nothing is picked on it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from edge_app import cli
from edge_app.annotations import read_annotations
from edge_app.atomic import write_json
from edge_app.contract import ContractError, center_crop

from .cache import DataError, load_crops
from .metrics import judge

HEIGHT_BINS = (0, 20, 30, 45, 70, 10_000)  # the table: under 20, 20-30, 30-45, 45-70, 70 or more


def heights(folder: Path, names: list[str]) -> np.ndarray:
    """Median digit-box height of each named picture."""
    by_name = {a.name: float(np.median([b.height for b in a.boxes])) for a in read_annotations(folder)}
    return np.array([by_name[n] for n in names])


def table(correct: np.ndarray, targets: np.ndarray, height: np.ndarray) -> dict:
    """{'all', 'by_length': {L: (acc, n)}, 'by_height': {'lo-hi': (acc, n)}} of right/wrong per picture."""
    out = {"all": float(correct.mean()), "count": len(correct), "by_length": {}, "by_height": {}}
    for n in range(1, 6):
        m = targets[:, 0] == n
        if m.any():
            out["by_length"][str(n)] = [round(float(correct[m].mean()), 4), int(m.sum())]
    for lo, hi in zip(HEIGHT_BINS[:-1], HEIGHT_BINS[1:]):
        m = (height >= lo) & (height < hi)
        out["by_height"][f"{lo}-{hi}"] = [round(float(correct[m].mean()), 4) if m.any() else None, int(m.sum())]
    return out


def breakdown(model_path: Path, folder: Path, views: int = 1) -> dict:
    """A model's accuracy table on a labelled folder (centre crop, or averaged test-time views)."""
    from edge_app.interpreter import HouseNumberModel
    from edge_app.tta import view_probabilities

    from .evaluate import predict

    crops = load_crops(folder)
    if Path(model_path).suffix == ".tflite" and views > 1:
        model = HouseNumberModel(model_path, threads=1)
        probs = [view_probabilities(model.probabilities, r, views) for r in crops.regions]
        length, digits = np.stack([p[0] for p in probs]), np.stack([p[1] for p in probs])
    else:
        length, digits = predict(model_path, np.stack([center_crop(r) for r in crops.regions]), progress=False)
    correct = judge(length, digits, crops.targets).correct
    return {"model": str(model_path), "data": str(folder), "views": views,
            **table(correct, crops.targets, heights(folder, crops.names))}


def main(argv=None) -> int:
    p = cli.parser("python -m train.breakdown", __doc__)
    p.add_argument("--models", required=True, help="comma-separated .tflite or .keras models")
    p.add_argument("--data", type=Path, required=True, help="a labelled folder")
    p.add_argument("--views", type=cli.int_range(1, 7), default=1, help="test-time views per region (.tflite only)")
    p.add_argument("--json", type=cli.output_file, help="write the tables to this file")
    args = p.parse_args(argv)
    cli.setup_logging(args.verbose, args.quiet)
    from edge_app.interpreter import ModelError

    return cli.run(lambda: _main(args), errors=(DataError, ModelError, ContractError))


def _main(args) -> int:
    reports = [breakdown(Path(m), args.data, args.views) for m in args.models.split(",")]
    for r in reports:
        print(f"{r['model']} ({r['views']} view(s)): {r['all']:.4f} of {r['count']}")
        print("  by length: " + ", ".join(f"{k}: {v[0]:.3f} ({v[1]})" for k, v in r["by_length"].items()))
        print("  by height: " + ", ".join(f"{k}: {v[0] if v[0] is None else round(v[0], 3)} ({v[1]})"
                                          for k, v in r["by_height"].items()))
    if args.json:
        write_json(args.json, reports)
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
