"""The input and the six softmax heads that every architecture shares (the paper's output layer)."""

import keras
from keras import layers

from edge_app.contract import DIGIT_CLASSES, HEADS, INPUT_SIZE, LENGTH_CLASSES


def pixel_input() -> keras.KerasTensor:
    """54x54x3 uint8 pixels as they come from the picture: scaling happens inside the model."""
    return keras.Input((INPUT_SIZE, INPUT_SIZE, 3), dtype="uint8", name="pixels")


def scaled(pixels) -> keras.KerasTensor:
    """uint8 0..255 -> float -1..1, as a layer so the exported model takes raw pixels."""
    return layers.Rescaling(1 / 127.5, offset=-1.0, name="scale")(layers.Identity(dtype="float32")(pixels))


def six_heads(features) -> dict:
    """length (7 classes) and digit1..digit5 (11 classes, 10 = no digit), softmax, named, float32."""
    sizes = [LENGTH_CLASSES] + [DIGIT_CLASSES] * (len(HEADS) - 1)
    return {name: layers.Dense(n, activation="softmax", dtype="float32", name=name)(features)
            for name, n in zip(HEADS, sizes)}
