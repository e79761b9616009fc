"""A compact network for full-int8 TF Lite on a Raspberry Pi CPU and the Coral Edge TPU.

MobileNet-style depthwise-separable blocks; only ops the Edge TPU compiler maps (Conv2D,
DepthwiseConv2D, ReLU6, Dense, reshape) with static shapes. Flatten, not global pooling, before the
dense layer: which digit sits where is the whole task.
"""

import keras
from keras import layers

from .heads import pixel_input, scaled, six_heads

# (filters, stride) of each separable block: 54 -> 27 -> 14 -> 7 -> 4 pixels
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (256, 1), (384, 2))


def _conv_bn(x, filters: int, kernel: int, stride: int, name: str, depthwise: bool = False):
    if depthwise:
        x = layers.DepthwiseConv2D(kernel, stride, padding="same", use_bias=False, name=name)(x)
    else:
        x = layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_relu")(x)


def build_edge(dropout: float = 0.3) -> keras.Model:
    """The edge network (about 20M multiply-adds, 1.4M parameters: 30x lighter than goodfellow)."""
    pixels = pixel_input()
    x = _conv_bn(scaled(pixels), 32, 3, 2, "stem")
    for i, (filters, stride) in enumerate(BLOCKS):
        x = _conv_bn(x, 0, 3, stride, f"block{i + 1}_dw", depthwise=True)
        x = _conv_bn(x, filters, 1, 1, f"block{i + 1}_pw")
    x = _conv_bn(x, 128, 1, 1, "squeeze")  # 4x4x128: keeps position, shrinks the dense layer
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(512, name="fc")(x)
    x = layers.ReLU(6.0)(x)
    x = layers.Dropout(dropout)(x)
    return keras.Model(pixels, six_heads(x), name="edge")
