"""train/augment.py's augmentation as a Keras layer in keras.ops: runs inside the jitted step on any backend.

The TensorFlow path (train/data.py) augments in tf.data; this layer serves train/portable.py, where
there is no TensorFlow. The crop is the contract's random 54x54 crop, folded into one affine
warp with the rotation, scale and shear (an integer translation samples pixels exactly).
"""

from __future__ import annotations

import math

import keras
from keras import ops

from edge_app.contract import CROP_RANGE, INPUT_SIZE, REGION_SIZE

LOW_RES_SIZES = (16, 24, 32, 40)  # static sizes: a jitted step cannot resize to a random size


class Augment(keras.layers.Layer):
    """uint8 (B, 64, 64, 3) regions -> uint8 (B, 54, 54, 3) training inputs; the centre crop outside training."""

    def __init__(self, seed: int = 0, photometric: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.photometric = photometric
        self.seeds = keras.random.SeedGenerator(seed)

    def call(self, regions, training=None):
        x = ops.cast(regions, "float32")
        if not training:
            m = CROP_RANGE // 2  # the contract's centre crop
            return ops.cast(x[:, m:m + INPUT_SIZE, m:m + INPUT_SIZE], "uint8")
        b = ops.shape(x)[0]
        x = ops.image.affine_transform(x, self._warp(b), interpolation="bilinear", fill_mode="nearest")
        x = x[:, :INPUT_SIZE, :INPUT_SIZE]
        if self.photometric:
            x = self._colour(x, b)
            x = self._blur(x, b)
            x = self._low_resolution(x, b)
            sigma = keras.random.uniform((b, 1, 1, 1), 0.0, 8.0, seed=self.seeds)
            x = x + sigma * keras.random.normal(ops.shape(x), seed=self.seeds)
        return ops.cast(ops.clip(ops.round(x), 0, 255), "uint8")

    def _warp(self, b):
        # Output pixel (x, y) samples the region at A(x + ox, y + oy) + t: rotation +-8 degrees,
        # scale 0.9..1.1, shear +-0.15 about the centre, then the random crop offset (ox, oy).
        offset = ops.cast(keras.random.randint((b, 2), 0, CROP_RANGE + 1, seed=self.seeds), "float32")
        r = keras.random.uniform((b, 3), -1.0, 1.0, seed=self.seeds) * (1.0 if self.photometric else 0.0)
        angle, scale, shear = r[:, 0] * 8 * math.pi / 180, 1.0 + 0.1 * r[:, 1], 0.15 * r[:, 2]
        a0, b0 = ops.cos(angle) / scale, ops.sin(angle) / scale
        a1, b1 = -b0 + shear, a0
        c = REGION_SIZE / 2
        tx, ty = c - a0 * c - a1 * c, c - b0 * c - b1 * c
        ox, oy = offset[:, 0], offset[:, 1]
        zeros = ops.zeros_like(a0)
        return ops.stack([a0, a1, tx + a0 * ox + a1 * oy, b0, b1, ty + b0 * ox + b1 * oy, zeros, zeros], axis=1)

    def _colour(self, x, b):
        # Brightness, contrast, saturation, tint, an occasional grey picture and an occasional negative.
        r = keras.random.uniform((b, 7), seed=self.seeds)
        grey = ops.mean(x, axis=3, keepdims=True)
        sat = ops.where(r[:, 0:1] < 0.1, 0.0, 0.4 + r[:, 0:1])[:, :, None, None]
        x = grey + (x - grey) * sat
        mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
        contrast = (0.5 + r[:, 1])[:, None, None, None]
        brightness = (r[:, 2] - 0.5)[:, None, None, None] * 60
        x = (x - mean) * contrast + mean + brightness + (r[:, 3:6] - 0.5)[:, None, None, :] * 30
        return ops.where(r[:, 6][:, None, None, None] < 0.1, 255.0 - x, x)

    def _blur(self, x, b):
        k = ops.convert_to_tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
        kernel = ops.tile((k[:, None] * k[None, :])[:, :, None, None], (1, 1, 3, 1))
        blurred = ops.depthwise_conv(x, kernel, padding="same")
        amount = keras.random.uniform((b, 1, 1, 1), seed=self.seeds) ** 2
        return x + (blurred - x) * amount

    def _low_resolution(self, x, b):
        # A third of the pictures go down to 16..40 pixels and back: SVHN digits are often tiny.
        pick = keras.random.randint((b,), 0, 3 * len(LOW_RES_SIZES), seed=self.seeds)
        for i, size in enumerate(LOW_RES_SIZES):
            small = ops.image.resize(ops.image.resize(x, (size, size), antialias=True), (INPUT_SIZE, INPUT_SIZE))
            x = ops.where((pick == i)[:, None, None, None], small, x)
        return x

    def get_config(self):
        return {**super().get_config(), "photometric": self.photometric}


class FrameAugment(Augment):
    """uint8 (B, H, W, 3) whole frames -> colour, blur and noise only, so their boxes stay put.

    Unchanged outside training. The zoom, which moves the boxes, happens in the batches (portable_data.py).
    """

    def call(self, frames, training=None):
        if not training:
            return frames
        x = ops.cast(frames, "float32")
        b = ops.shape(x)[0]
        x = self._blur(self._colour(x, b), b)
        sigma = keras.random.uniform((b, 1, 1, 1), 0.0, 6.0, seed=self.seeds)
        x = x + sigma * keras.random.normal(ops.shape(x), seed=self.seeds)
        return ops.cast(ops.clip(ops.round(x), 0, 255), "uint8")
