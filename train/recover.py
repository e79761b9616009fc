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

from .tflite_ops import operators

log = logging.getLogger("train.recover")


def _dequantised(interpreter, index: int) -> np.ndarray:
    detail = next(d for d in interpreter.get_tensor_details() if d["index"] == index)
    q = detail["quantization_parameters"]
    values = interpreter.get_tensor(index).astype(np.float32)
    scales, zeros, axis = q["scales"], q["zero_points"], q["quantized_dimension"]
    if len(scales) == 0:
        return values
    shape = [1] * values.ndim
    shape[axis] = -1 if len(scales) > 1 else 1
    return (values - zeros.reshape(shape)) * scales.reshape(shape).astype(np.float32)


def folded_weights(tflite: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Layer name -> (Keras-shaped kernel, bias) for every convolution and dense layer of the export."""
    from edge_app.inference.runtime import interpreter_class

    interpreter = interpreter_class()[0](model_path=str(tflite))
    interpreter.allocate_tensors()
    names = {d["index"]: d["name"] for d in interpreter.get_tensor_details()}
    out = {}
    for kind, inputs in operators(tflite):  # tensor indices of the file are the interpreter's
        if kind not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        w_index, b_index = inputs[1], inputs[2]
        suffix = {"CONV_2D": "/convolution", "DEPTHWISE_CONV_2D": "/depthwise", "FULLY_CONNECTED": "/MatMul"}[kind]
        part = next(p for p in names[w_index].split(";") if p.endswith(suffix))
        layer = part.split("/")[-2].rsplit("_", 1)[0]  # 'edge_1/block3_dw_1/depthwise' -> 'block3_dw'
        w, b = _dequantised(interpreter, w_index), _dequantised(interpreter, b_index)
        kernel = w.T if kind == "FULLY_CONNECTED" else np.transpose(w, (1, 2, 3, 0))  # OHWI / 1HWC -> HWIO / HWC1
        out[layer] = (kernel, b)
    return out


def recover(tflite: Path, inputs: np.ndarray, arch: str = "edge"):
    """The Keras `arch` model carrying the export's weights; `inputs` (the model's input batch) set the batch norms."""
    import keras

    from .models import build_model

    model = build_model(arch)
    weights = folded_weights(tflite)
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

    return cli.run(lambda: _main(args), errors=(DataError,))


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
