"""The number detector: where are the house numbers in a whole (downscaled) frame? CenterNet-style, stride 8.

A small MobileNet-like backbone to stride 16, whose context is brought back to stride 8 by a
nearest-neighbour upsampling and added to the stride-8 features (Edge TPU ops only: Conv2D,
DepthwiseConv2D, ReLU6, Add, resize-nearest, logistic). Two named sigmoid outputs, so both quantise
to uint8 with the fixed scale 1/256:
  heatmap (18, 24, 1): a number's centre lies in this cell;
  box     (18, 24, 4): (dx, dy) centre offset inside the cell, (w, h) as fractions of the input size.
"""

import math

import keras
from keras import layers

from edge_app.contract import DETECTOR_HEIGHT, DETECTOR_WIDTH

from .heads import scaled

# (filters, stride) of the separable blocks: 96x72 -> 48x36 -> 24x18 (stride 8) -> 12x9 (stride 16)
STRIDE8 = ((32, 2), (32, 1), (64, 2), (64, 1), (64, 1))
STRIDE16 = ((128, 2), (128, 1), (128, 1))
PRIOR = 0.02  # initial heatmap score: most cells hold no centre (CenterNet's bias trick)


def _conv(x, filters: int, kernel: int, stride: int, name: str, depthwise: bool = False):
    if depthwise:
        x = layers.DepthwiseConv2D(kernel, stride, padding="same", use_bias=False, name=name)(x)
    else:
        x = layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False, name=name)(x)
    # momentum 0.9, not 0.99: short CPU runs of a few hundred steps need settled inference statistics
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_relu")(x)


def _blocks(x, blocks, prefix: str):
    for i, (filters, stride) in enumerate(blocks):
        x = _conv(x, 0, 3, stride, f"{prefix}{i + 1}_dw", depthwise=True)
        x = _conv(x, filters, 1, 1, f"{prefix}{i + 1}_pw")
    return x


def build_detector(dropout: float = 0.0) -> keras.Model:
    """The detector (about 14M multiply-adds, 0.1M parameters); `dropout` is accepted for the CLI and unused."""
    del dropout
    pixels = keras.Input((DETECTOR_HEIGHT, DETECTOR_WIDTH, 3), dtype="uint8", name="pixels")
    x = _conv(scaled(pixels), 16, 3, 2, "stem")
    s8 = _blocks(x, STRIDE8, "s8_")
    s16 = _blocks(s8, STRIDE16, "s16_")
    # Resizing, not UpSampling2D: Keras builds the latter from TILE, which the Edge TPU cannot run.
    up = layers.Resizing(DETECTOR_HEIGHT // 8, DETECTOR_WIDTH // 8, interpolation="nearest", name="up")(
        _conv(s16, 64, 1, 1, "lateral"))
    x = layers.Add(name="merge")([s8, up])
    x = _blocks(x, ((64, 1), (64, 1)), "head_")
    heatmap = layers.Conv2D(1, 1, activation="sigmoid", dtype="float32", name="heatmap",
                            bias_initializer=keras.initializers.Constant(-math.log((1 - PRIOR) / PRIOR)))(x)
    box = layers.Conv2D(4, 1, activation="sigmoid", dtype="float32", name="box")(x)
    return keras.Model(pixels, {"heatmap": heatmap, "box": box}, name="detector")
