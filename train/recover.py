"""Recover a trainable Keras model (the edge reader or the detector) from an int8 TF Lite export, to fine-tune it.

The converter folds each batch norm into its convolution; the dequantised kernels and biases go back
into the Keras layers, and each batch norm is set so that it adds the folded bias and nothing else,
for the statistics its input actually has on `--data` (so training-mode batch statistics keep the
function too). Example:

    python -m train.recover --tflite models/house_numbers.tflite --data ../shared/data/svhn/recon/train \\
        --out runs/shipped/model.keras
    python -m train.recover --arch detector --tflite models/number_detector.tflite --data data/scenes \\
        --out runs/shipped_detector/model.keras
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import numpy as np

from edge_app import cli
from edge_app.atomic import atomic_path

from .tflite_weights import WeightsError, tflite_weights

log = logging.getLogger("train.recover")


def recover(tflite: Path, inputs: np.ndarray, arch: str = "edge"):
    """The Keras `arch` model carrying the export's weights; `inputs` (the model's input batch) set the batch norms."""
    import keras

    from edge_app.inference.runtime import interpreter_class

    from .models import build_model

    model = build_model(arch)
    weights = tflite_weights(tflite, interpreter_class()[0])
    folded = []  # layers whose batch norm the converter folded in: kernel only, the bias goes to the norm
    for name, (kernel, bias) in weights.items():
        layer = model.get_layer(name)
        if len(layer.get_weights()) == 2:  # a dense layer or an output convolution keeps its own bias
            layer.set_weights([kernel, bias])
        else:
            layer.set_weights([kernel])
            folded.append(name)
    # Front to back: each batch norm sees the statistics of the already-recovered layers before it.
    for name in folded:
        bn = model.get_layer(f"{name}_bn")
        x = keras.Model(model.input, bn.input).predict(inputs, batch_size=128, verbose=0)
        mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
        bn.set_weights([np.sqrt(var + bn.epsilon), mean + weights[name][1], mean, var])
    return model


def main(argv=None) -> int:
    p = cli.parser("python -m train.recover", __doc__)
    p.add_argument("--arch", choices=("edge", "detector"), default="edge", help="the exported network (default edge)")
    p.add_argument("--tflite", type=Path, required=True, help="an int8 (or float) TF Lite export of that network")
    p.add_argument("--data", required=True,
                   help="a training folder whose pictures (edge) or scenes (detector) set the batch-norm statistics")
    p.add_argument("--count", type=cli.int_range(1, 100_000), default=512, help="pictures used for the statistics")
    p.add_argument("--out", type=cli.output_file, required=True, help="the .keras file to write")
    args = p.parse_args(argv)
    cli.setup_logging(args.verbose, args.quiet)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from .cache import DataError

    return cli.run(lambda: _main(args), errors=(DataError, WeightsError))


def _main(args) -> int:
    if not args.tflite.is_file():
        raise cli.UserError(f"{args.tflite}: no such model file")
    if args.arch == "detector":
        from .scene_data import load_frames

        inputs = load_frames(args.data)[0][: args.count]
    else:
        from .cache import load_crops
        from .folders import eval_inputs

        inputs = eval_inputs(load_crops(args.data).regions[: args.count])
    model = recover(args.tflite, inputs, args.arch)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out, suffix=".keras") as tmp:
        model.save(tmp)
    log.info("%s: %s model recovered from %s", args.out, args.arch, args.tflite)
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
