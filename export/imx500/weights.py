"""A model's weights by Keras layer name, read from where they are kept: a run's .keras or a shipped int8 .tflite.

numpy (and h5py for .keras) only, so the IMX500 toolchain's TF 2.15 / Keras 2 rebuilds a model that Keras 3 trained
(the detector, or the edge reader: convolutions, depthwise convolutions and dense layers).

- `.keras` (Keras 3 zip): `model.weights.h5` keeps each layer's variables under `layers/<name>/vars/<i>`, in the
  order Keras 2 sets them (Conv2D kernel[, bias]; BatchNormalization gamma, beta, moving mean, moving variance).
- `.tflite` (int8, read by train.tflite_weights): the converter folded each BatchNormalization into its convolution,
  so a layer's kernel comes back as scale * (q - zero_point) with the folded bias beside it. The rebuilt model holds
  the folded kernel in the convolution and the bias in an identity BatchNormalization (gamma 1, mean 0, variance
  1 - epsilon: y = x + beta); a dense layer keeps its own bias. Its float outputs differ from the trained float
  model's by the int8 weight rounding.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np

from train.tflite_weights import WeightsError

BN_EPSILON = 1e-3  # Keras' BatchNormalization default, which the detector's and the edge reader's builders keep


def keras_weights(path: Path) -> dict[str, list[np.ndarray]]:
    """Layer name -> its variables, from a Keras 3 `.keras` file (no Keras needed)."""
    import io

    import h5py

    try:
        with zipfile.ZipFile(path) as z, z.open("model.weights.h5") as raw:
            data = raw.read()
    except (zipfile.BadZipFile, KeyError, OSError) as err:
        raise WeightsError(f"{path}: not a Keras 3 .keras file ({err})") from None

    out: dict[str, list[np.ndarray]] = {}
    with h5py.File(io.BytesIO(data), "r") as h5:
        def visit(name, node):
            m = re.fullmatch(r"(?:.*/)?layers/(\w+)/vars", name)
            if m and isinstance(node, h5py.Group) and len(node):
                out[m.group(1)] = [np.array(node[str(i)]) for i in range(len(node))]

        h5.visititems(visit)
    return out


def set_weights(model, weights: dict[str, list[np.ndarray]], folded: bool, source: Path) -> None:
    """Load `weights` into the rebuilt model by layer name; every layer with variables must get them."""
    what = model.name
    used = set()
    for layer in model.layers:
        want = layer.get_weights()
        if not want:
            continue
        name = layer.name
        if folded and name.endswith("_bn"):
            conv = weights.get(name[: -len("_bn")])
            if conv is None:
                raise WeightsError(f"{source}: no weights for layer {name[:-3]!r}: not this {what}")
            beta = conv[1]
            values = [np.ones_like(beta), beta, np.zeros_like(beta), np.full_like(beta, 1 - BN_EPSILON)]
        elif folded and name in weights and len(want) == 1:  # a convolution whose BatchNormalization was folded in
            values = [weights[name][0]]
            used.add(name)
        else:
            if name not in weights:
                raise WeightsError(f"{source}: no weights for layer {name!r}: not this {what}")
            values = weights[name]
            used.add(name)
        got = [tuple(v.shape) for v in values]
        if got != [tuple(w.shape) for w in want]:
            raise WeightsError(f"{source}: layer {name!r} has weights {got}, the {what} needs "
                               f"{[tuple(w.shape) for w in want]}: another architecture")
        layer.set_weights(values)
    extra = sorted(set(weights) - used - {n[: -len('_bn')] for n in (layer.name for layer in model.layers)})
    if extra:
        raise WeightsError(f"{source}: layers {extra} are not in the {what}: another architecture")
