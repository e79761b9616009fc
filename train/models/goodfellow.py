"""Goodfellow et al. 2013, as the well-known reimplementations build it for 54x54 inputs.

Eight 5x5 convolutions (48, 64, 128, 160, then 4 x 192) with batch norm, ReLU, max-pooling whose
stride alternates 2/1, and dropout; two dense layers of 3072; six softmax heads.
"""

import keras
from keras import layers

from .heads import pixel_input, scaled, six_heads

FILTERS = (48, 64, 128, 160, 192, 192, 192, 192)


def build_goodfellow(dropout: float = 0.2) -> keras.Model:
    """The paper's network (about 590M multiply-adds, 26M parameters at 54x54)."""
    pixels = pixel_input()
    x = scaled(pixels)
    for i, filters in enumerate(FILTERS):
        x = layers.Conv2D(filters, 5, padding="same", use_bias=False, name=f"conv{i + 1}")(x)
        x = layers.BatchNormalization(name=f"bn{i + 1}")(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(2, strides=2 if i % 2 == 0 else 1, padding="same")(x)
        x = layers.Dropout(dropout)(x)
    x = layers.Flatten()(x)
    for i in range(2):
        x = layers.Dense(3072, activation="relu", name=f"fc{i + 1}")(x)
        x = layers.Dropout(dropout)(x)
    return keras.Model(pixels, six_heads(x), name="goodfellow")
