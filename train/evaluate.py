"""Evaluate a model (.keras or .tflite) on a labelled folder: sequence accuracy, by length, coverage.

Example:

    python -m train.evaluate --model models/house_numbers.tflite --data ../shared/data/svhn/recon/test \\
        --json out/eval.json

The .tflite path runs through the edge app's own interpreter wrapper: one code path for the device
and for evaluation. Writes <json>.coverage.png and <json>.mistakes.png beside the JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edge_app import cli
from edge_app.atomic import write_atomic
from edge_app.contract import HEADS, ContractError

from .cache import DataError, load_crops
from .folders import eval_inputs
from .metrics import coverage_curve, judge, score


def predict(model_path, inputs: np.ndarray, threads: int | None = None, progress: bool = True):
    """Head probabilities (N, 7) and (N, 5, 11) of a .keras or .tflite model on (N, 54, 54, 3) inputs."""
    model_path = Path(model_path)
    if model_path.suffix == ".tflite":
        from edge_app.inference.reader import HouseNumberModel

        model = HouseNumberModel(model_path, threads=threads)
        bar = tqdm(inputs, desc="evaluate", unit="img", disable=not progress, leave=False)
        out = [model.probabilities(x) for x in bar]
        return np.stack([o[0] for o in out]), np.stack([o[1] for o in out])
    if model_path.suffix != ".keras":
        raise DataError(f"{model_path}: expected a .keras or .tflite model")
    if not zipfile.is_zipfile(model_path):  # said without starting TensorFlow (seconds) to load it
        raise DataError(f"{model_path}: not a Keras model (a .keras file is a zip archive)")
    import keras

    try:
        model = keras.models.load_model(model_path, compile=False)
    except Exception as err:  # noqa: BLE001 - any failure to load means "not a model"
        raise DataError(f"{model_path}: not a Keras model ({type(err).__name__})") from None
    return keras_probabilities(model, inputs)


def keras_probabilities(model, inputs: np.ndarray):
    """Head probabilities (N, 7) and (N, 5, 11) of a loaded Keras reader."""
    probs = model.predict(inputs, batch_size=256, verbose=0)
    return np.asarray(probs["length"]), np.stack([np.asarray(probs[h]) for h in HEADS[1:]], axis=1)


def evaluate(model_path, data, limit: int | None = None, json_out: Path | None = None, threads: int | None = None,
             skip_bad: bool = False) -> dict:
    """Run the model on a folder's centre crops and report; writes JSON + plots when json_out is given."""
    crops = load_crops(data, skip_bad=skip_bad)
    n = len(crops) if limit is None else min(limit, len(crops))
    inputs, targets = eval_inputs(np.asarray(crops.regions[:n])), crops.targets[:n]
    start = time.perf_counter()
    length_probs, digit_probs = predict(model_path, inputs, threads)
    report = {"model": str(model_path), "data": str(data), **score(length_probs, digit_probs, targets),
              "skipped": len(crops.skipped), "seconds": round(time.perf_counter() - start, 2)}
    if json_out:
        json_out = Path(json_out)
        json_out.parent.mkdir(parents=True, exist_ok=True)
        plots = [json_out.with_suffix(".coverage.png"), json_out.with_suffix(".mistakes.png")]
        try:
            _plots(plots, judge(length_probs, digit_probs, targets), targets, inputs, crops.names[:n], report)
            write_atomic(json_out, json.dumps(report, indent=2))  # last: the report says the plots are whole
        except BaseException:
            for plot in plots:  # no plots without their report
                plot.unlink(missing_ok=True)
            raise
    return report


def _plots(paths: list[Path], judged, targets, inputs, names, report) -> None:
    from .plots import plot_coverage, plot_mistakes

    pred, correct, confidence = judged
    cov, acc = coverage_curve(correct, confidence)
    plot_coverage(cov, acc, paths[0], f"{Path(report['model']).name} on {_short(report['data'])}: "
                  f"coverage at 98% = {report['coverage_at_98']:.2f}")
    wrong = np.nonzero(~correct)[0]
    worst = wrong[np.argsort(-confidence[wrong])][:32]  # confident mistakes teach the most
    plot_mistakes(inputs[worst], pred[worst], targets[worst], confidence[worst], [names[i] for i in worst], paths[1])


def _short(folder) -> str:
    """'../shared/data/svhn/recon/test' -> 'recon/test': enough to tell the folder in a plot title."""
    return "/".join(Path(folder).parts[-2:])


def main(argv=None) -> int:
    p = cli.parser("python -m train.evaluate", __doc__)
    p.add_argument("--model", required=True, help="a .keras model or an exported .tflite (with its .json beside it)")
    p.add_argument("--data", required=True, help="labelled folder (N.png + digitStruct.mat or .csv)")
    p.add_argument("--limit", type=cli.positive_int, help="only the first N pictures")
    p.add_argument("--json", type=cli.output_file, help="write the report to this file (plus .coverage.png and "
                   ".mistakes.png beside it)")
    p.add_argument("--threads", type=cli.threads, help="interpreter threads for a .tflite model")
    p.add_argument("--skip-bad", action="store_true", help="leave out pictures that cannot be read or whose label "
                   "is bad (each is named), instead of stopping")
    args = p.parse_args(argv)
    cli.setup_logging(args.verbose, args.quiet)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from edge_app.inference.card import ModelError

    return cli.run(lambda: _main(args), errors=(DataError, ModelError, ContractError))


def _main(args) -> int:
    r = evaluate(args.model, args.data, args.limit, args.json, args.threads, args.skip_bad)
    by_length = "  ".join(f"{k}:{v['accuracy']:.3f} (n={v['count']})" for k, v in r["by_length"].items())
    print(f"{r['count']} pictures  sequence accuracy {r['sequence_accuracy']:.4f}  digit accuracy "
          f"{r['digit_accuracy']:.4f}  coverage at 98% {r['coverage_at_98']:.3f}\nby length  {by_length}")
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
