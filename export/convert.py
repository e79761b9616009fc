"""Keras model -> TF Lite: full-integer int8 (uint8 raw-pixel input), and the float / dynamic-range variants.

Keras 3 models go through a SavedModel with one dict-valued endpoint, so the TF Lite signature names
each output by its head; the converter is known to reorder the output tensors of multi-output models,
and the sidecar maps them by those names.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from edge_app.inference.card import VARIANTS
from edge_app.inference.runtime import interpreter_class
from train.tflite_ops import operators

from .checks import ExportError

SIGNATURE = "serve"


def convert(model: keras.Model, variant: str, calibration: np.ndarray | None = None) -> bytes:
    """Convert to one TF Lite variant: 'int8' (needs calibration inputs), 'float' or 'dynamic'."""
    shape = (1, *model.inputs[0].shape[1:])  # a reader's 54x54x3 region or a detector's whole frame
    if variant == "int8":
        # A float32 twin of the model: the uint8 -> float cast would otherwise stay in the int8
        # graph as a float op. With the representative set spanning 0..255 the converter gives the
        # uint8 input scale 1 and zero point 0: raw pixels go in unchanged.
        model = _float_input_twin(model, shape)
        spec = tf.TensorSpec(shape, tf.float32, name="pixels")
    else:
        spec = tf.TensorSpec(shape, tf.uint8, name="pixels")
    with tempfile.TemporaryDirectory() as folder:
        _saved_model(model, spec, folder)
        converter = tf.lite.TFLiteConverter.from_saved_model(folder, signature_keys=[SIGNATURE])
        if variant == "int8":
            if calibration is None or len(calibration) == 0:
                raise ExportError("int8 export needs a calibration set (python -m calibration)")
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = lambda: _representative(calibration, shape)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.uint8
            converter.inference_output_type = tf.uint8
        elif variant == "dynamic":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        elif variant != "float":
            raise ExportError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
        return converter.convert()


def _saved_model(model: keras.Model, spec: tf.TensorSpec, folder: str) -> None:
    # A bare tf.Module that holds the weights and the one endpoint: the same SavedModel signature as Keras's
    # ExportArchive, written in less than half the time (the archive also tracks every layer and its functions).
    module = tf.Module()
    module.weights = [v.value for v in model.variables]  # the tf.Variables the endpoint captures
    endpoint = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    tf.saved_model.save(module, folder, signatures={SIGNATURE: endpoint.get_concrete_function()})


def _float_input_twin(model: keras.Model, shape: tuple[int, ...]) -> keras.Model:
    twin = keras.models.clone_model(model, input_tensors=keras.Input(shape[1:], batch_size=1, dtype="float32"))
    twin.set_weights(model.get_weights())
    return twin


def _representative(calibration: np.ndarray, shape: tuple[int, ...]) -> Iterator[list[np.ndarray]]:
    # Black and white frames first so the input range is exactly 0..255, whatever the pictures span.
    yield [np.zeros(shape, np.float32)]
    yield [np.full(shape, 255, np.float32)]
    for x in calibration:
        yield [x[None].astype(np.float32)]


class Inspection(NamedTuple):
    """What export checks and records of a converted model, read with one interpreter."""

    heads: dict[str, str]  # output tensor name -> head name, from the signature the endpoint named
    float_tensors: list[str]  # in a full-integer model there must be none
    input: dict  # the interpreter's input details
    outputs: list[dict]  # and output details


def inspect(path) -> Inspection:
    """Open a .tflite once and read its head names, float tensors and input/output details."""
    Interpreter, _ = interpreter_class()
    interpreter = Interpreter(model_path=str(path))
    runner = interpreter.get_signature_runner(SIGNATURE)
    return Inspection(
        heads={detail["name"]: head for head, detail in runner.get_output_details().items()},
        float_tensors=[t["name"] for t in interpreter.get_tensor_details() if np.dtype(t["dtype"]).kind == "f"],
        input=interpreter.get_input_details()[0],
        outputs=interpreter.get_output_details(),
    )


def op_names(path) -> list[str]:
    """The builtin op names of a model in graph order, read from the file itself (no interpreter, no delegate)."""
    return [name for name, _ in operators(path)]
