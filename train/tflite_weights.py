"""An int8 .tflite's weights by Keras layer name, in Keras' layout: to rebuild a shipped model and train it further
(train.recover) or convert it for the AI Camera (export/imx500, in its TF 2.15 environment). numpy only.

The converter folded each BatchNormalization into its convolution, so a layer's kernel comes back as
scale * (q - zero_point) per output channel, with the folded bias beside it; a dense layer keeps its own bias.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

# An op's output tensor names its layer: "detector_1/s8_1_dw_relu_1/Relu6;...", "edge_1/fc_1/MatMul;..."
LAYER_OF_OUTPUT = re.compile(r"^[^/;]+/(?P<layer>\w+?)(?:_relu)?_\d+/")
# TF Lite kernel layout -> Keras': CONV_2D (out, kh, kw, in) -> (kh, kw, in, out); DEPTHWISE_CONV_2D (1, kh, kw, ch)
# -> (kh, kw, ch, 1); FULLY_CONNECTED (out, in) -> (in, out)
TO_KERAS = {"CONV_2D": (1, 2, 3, 0), "DEPTHWISE_CONV_2D": (1, 2, 3, 0), "FULLY_CONNECTED": (1, 0)}


class WeightsError(ValueError):
    """Weights that cannot be read or do not fit the model being rebuilt (one line, for the user)."""


def dequantized(interpreter, index: int) -> np.ndarray:
    """A constant tensor as float: scale * (q - zero_point) per channel (widened first: no wrap-around)."""
    detail = next(d for d in interpreter.get_tensor_details() if d["index"] == index)
    q = interpreter.get_tensor(index)
    params = detail.get("quantization_parameters") or {}
    scales = np.asarray(params.get("scales", []), np.float64)
    if q.dtype == np.float32 or scales.size == 0:
        return q.astype(np.float32)
    zeros = np.asarray(params.get("zero_points", np.zeros_like(scales)), np.int64)
    axis = int(params.get("quantized_dimension", 0))
    shape = [1] * q.ndim
    shape[axis] = -1 if scales.size > 1 else 1
    return (scales.reshape(shape) * (q.astype(np.int64) - zeros.reshape(shape))).astype(np.float32)


def tflite_weights(path: Path, interpreter_class) -> dict[str, list[np.ndarray]]:
    """Layer name -> Keras variables, from an int8 .tflite (BatchNormalization folded, see above)."""
    try:
        interpreter = interpreter_class(model_path=str(path))
        interpreter.allocate_tensors()
        ops = interpreter._get_ops_details()
    except (ValueError, RuntimeError) as err:
        raise WeightsError(f"{path}: not a TF Lite model ({str(err).splitlines()[0]})") from None
    names = {d["index"]: d["name"] for d in interpreter.get_tensor_details()}
    out: dict[str, list[np.ndarray]] = {}
    for op in ops:
        transpose = TO_KERAS.get(op["op_name"])
        if transpose is None:
            continue
        m = LAYER_OF_OUTPUT.match(names[op["outputs"][0]])
        if not m:
            raise WeightsError(f"{path}: cannot tell which layer the op writing {names[op['outputs'][0]]!r} is")
        kernel, bias = (dequantized(interpreter, i) for i in op["inputs"][1:3])
        out[m.group("layer")] = [kernel.transpose(transpose), bias]
    if not out:
        raise WeightsError(f"{path}: no convolutions or dense layers found: not one of the project's models")
    return out
