"""A model rebuilt in the IMX500 toolchain's tf.keras 2.15 from the project's own builder, with trained weights.

`float_model` is the builder's model (the detector or the edge reader, uint8 pixels in) holding the weights of a
run's .keras or of the shipped int8 .tflite (weights.py). `sensor_model` is the same network as MCT and Sony's
converter take it: a float input of raw 0..255 pixels (the sensor hands 8-bit pixels; MCT quantises this input
with scale 1) and the model's Rescaling as a multiply and a subtract, which the converter runs where it has no
Rescaling layer.
"""

from __future__ import annotations

from pathlib import Path

from train.tflite_weights import WeightsError, tflite_weights

from .weights import keras_weights, set_weights


def _keras2():
    """tf.keras 2.15 with the one name the builders' annotations use that Keras 2 keeps elsewhere."""
    import keras

    if not hasattr(keras, "KerasTensor"):  # train/models/heads.py annotates with keras.KerasTensor (Keras 3)
        from keras.src.engine.keras_tensor import KerasTensor

        keras.KerasTensor = KerasTensor
    return keras


def float_model(model_path: Path, arch: str):
    """The builder's `arch` ("detector", "edge") with the weights of `model_path` (a run's .keras or int8 .tflite)."""
    _keras2()
    import tensorflow as tf

    from train.models import ARCHS

    model = ARCHS[arch]()
    if model_path.suffix == ".keras":
        set_weights(model, keras_weights(model_path), folded=False, source=model_path)
    elif model_path.suffix == ".tflite":
        set_weights(model, tflite_weights(model_path, tf.lite.Interpreter), folded=True, source=model_path)
    else:
        raise WeightsError(f"{model_path}: give the run's model.keras or its int8 .tflite")
    return model


def sensor_model(model, outputs):
    """`model` as the converter takes it: float pixels in, Rescaling as multiply + subtract, outputs in this order."""
    keras = _keras2()
    import tensorflow as tf

    pixels = keras.Input(model.input.shape[1:], name="pixels")
    tensors = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            tensors[layer.name] = pixels
            continue
        inbound = layer.inbound_nodes[0].inbound_layers
        args = [tensors[i.name] for i in (inbound if isinstance(inbound, list) else [inbound])]
        x = args[0] if len(args) == 1 else args
        if isinstance(layer, keras.layers.Identity):  # the uint8 -> float cast: the input is float already
            tensors[layer.name] = x
        elif isinstance(layer, keras.layers.Rescaling):  # y = x * scale + offset
            tensors[layer.name] = tf.math.subtract(tf.math.multiply(x, float(layer.scale)), -float(layer.offset))
        else:
            clone = layer.__class__.from_config(layer.get_config())
            tensors[layer.name] = clone(x)
            clone.set_weights(layer.get_weights())
    return keras.Model(pixels, [tensors[name] for name in outputs], name=model.name)
