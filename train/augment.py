"""On-the-fly augmentation of a batch of 64x64 regions into 54x54 training inputs (stateless, seeded).

The random 54x54 crop is the contract's training crop; the rest imitates what street pictures and
cameras do: small rotations and scale changes, colour and contrast shifts, blur, low resolution, noise.
"""

import math

import tensorflow as tf

from edge_app.contract import CROP_RANGE, INPUT_SIZE, REGION_SIZE


def augment_batch(regions, seeds, photometric: bool = True):
    """uint8 (B, 64, 64, 3) -> uint8 (B, 54, 54, 3); `seeds` is a (2,) int64 stateless seed."""
    x = tf.cast(regions, tf.float32)
    b = tf.shape(x)[0]
    s = [tf.random.experimental.stateless_split(seeds, 8)[i] for i in range(8)]
    if photometric:
        x = _affine(x, s[0])
    x = crop_batch(x, crop_offsets(b, s[1]))
    if photometric:
        x = _colour(x, s[2])
        x = _blur(x, s[3])
        x = _low_resolution(x, s[4])
        noise = tf.random.stateless_uniform([b, 1, 1, 1], s[5], 0.0, 8.0)
        x = x + noise * tf.random.stateless_normal(tf.shape(x), s[6])
    return tf.cast(tf.clip_by_value(tf.round(x), 0, 255), tf.uint8)


def crop_offsets(batch, seed):
    """(B, 2) int32 (top, left) of each picture's training crop, uniform over 0..CROP_RANGE as in the contract."""
    return tf.random.stateless_uniform([batch, 2], seed, 0, CROP_RANGE + 1, dtype=tf.int32)


def crop_batch(x, off):
    """Each picture's INPUT_SIZE window at its (top, left): the TensorFlow twin of contract.crop_at."""
    rows = off[:, 0:1] + tf.range(INPUT_SIZE)[None]
    cols = off[:, 1:2] + tf.range(INPUT_SIZE)[None]
    x = tf.gather(x, rows, axis=1, batch_dims=1)
    return tf.gather(x, cols, axis=2, batch_dims=1)


def _affine(x, seed):
    # Rotation +-8 degrees, scale 0.9..1.1, shear +-0.15 about the centre; edges replicated.
    b = tf.shape(x)[0]
    r = tf.random.stateless_uniform([b, 3], seed, -1.0, 1.0)
    angle, scale, shear = r[:, 0] * 8 * math.pi / 180, 1.0 + 0.1 * r[:, 1], 0.15 * r[:, 2]
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    c = REGION_SIZE / 2
    a0, a1 = cos, -sin + shear
    b0, b1 = sin, cos
    tx = c - a0 * c - a1 * c
    ty = c - b0 * c - b1 * c
    zeros = tf.zeros_like(cos)
    transform = tf.stack([a0, a1, tx, b0, b1, ty, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=x, transforms=transform, output_shape=[REGION_SIZE, REGION_SIZE],
        interpolation="BILINEAR", fill_mode="NEAREST", fill_value=0.0)


def _colour(x, seed):
    # Brightness, contrast, saturation, an occasional grey picture and an occasional negative.
    b = tf.shape(x)[0]
    r = tf.random.stateless_uniform([b, 6], seed)
    grey = tf.reduce_mean(x, axis=3, keepdims=True)
    sat = tf.where(r[:, 0:1] < 0.1, 0.0, 0.4 + 1.0 * r[:, 0:1])[:, :, None, None]
    x = grey + (x - grey) * sat
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    contrast = (0.5 + 1.0 * r[:, 1])[:, None, None, None]
    brightness = (r[:, 2] - 0.5)[:, None, None, None] * 60
    x = (x - mean) * contrast + mean + brightness
    tint = (r[:, 3:6] - 0.5)[:, None, None, :] * 30
    x = x + tint
    invert = tf.random.stateless_uniform([b, 1, 1, 1], seed + 1) < 0.1
    return tf.where(invert, 255.0 - x, x)


def _blur(x, seed):
    # Blend each picture with a Gaussian-blurred copy by a random amount (cheap per-picture blur).
    k = tf.constant([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
    kernel = tf.tile((k[:, None] * k[None, :])[:, :, None, None], [1, 1, 3, 1])
    blurred = tf.nn.depthwise_conv2d(x, kernel, [1, 1, 1, 1], "SAME")
    amount = tf.random.stateless_uniform([tf.shape(x)[0], 1, 1, 1], seed, 0.0, 1.0) ** 2
    return x + (blurred - x) * amount


def _low_resolution(x, seed):
    # A third of the pictures go down to 16..40 pixels and back: SVHN digits are often tiny.
    size = tf.random.stateless_uniform([], seed, 16, 41, dtype=tf.int32)
    small = tf.image.resize(tf.image.resize(x, [size, size], antialias=True), [INPUT_SIZE, INPUT_SIZE])
    pick = tf.random.stateless_uniform([tf.shape(x)[0], 1, 1, 1], seed + 1) < 0.33
    return tf.where(pick, small, x)


def photometric(frames, seeds):
    """Colour, contrast, blur and noise of uint8 (B, H, W, 3) frames, no geometry (their boxes stay put)."""
    x = tf.cast(frames, tf.float32)
    s = [tf.random.experimental.stateless_split(seeds, 4)[i] for i in range(4)]
    x = _blur(_colour(x, s[0]), s[1])
    noise = tf.random.stateless_uniform([tf.shape(x)[0], 1, 1, 1], s[2], 0.0, 6.0)
    x = x + noise * tf.random.stateless_normal(tf.shape(x), s[3])
    return tf.cast(tf.clip_by_value(tf.round(x), 0, 255), tf.uint8)
