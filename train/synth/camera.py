"""The camera: pose of the plate (one homography for pixels and boxes alike) and image degradations."""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageFilter


def translate(dx: float, dy: float) -> np.ndarray:
    """3x3 translation."""
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], np.float64)


def pose(rng: np.random.Generator, scale: float, stretch: float, width: float) -> np.ndarray:
    """Scene -> picture homography about the origin: stretch, italic shear, rotation, a slight keystone.

    `scale` maps scene to picture pixels, `stretch` widens (>1) or condenses (<1) the glyphs, `width`
    is the number's width in picture pixels (keystone strength is relative to it).
    """
    shear = rng.normal(0, 0.12) if rng.random() < 0.5 else 0.0
    angle = math.radians(rng.normal(0, 3) if rng.random() < 0.85 else rng.uniform(-15, 15))
    c, s = math.cos(angle), math.sin(angle)
    m = np.array([[scale * stretch, 0, 0], [0, scale, 0], [0, 0, 1]], np.float64)
    m = np.array([[1, -shear, 0], [0, 1, 0], [0, 0, 1]]) @ m  # x shifts with -y: leans right
    m = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ m
    if rng.random() < 0.4:
        # Seen from the side or from below: 1 + px*x + py*y varies by up to ~25% across the number.
        px, py = rng.normal(0, 0.12, 2) / max(width, 1.0)
        m = np.array([[1, 0, 0], [0, 1, 0], [px, py, 1]]) @ m
    return m


def apply(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map (N, 2) points through a homography."""
    p = np.c_[points, np.ones(len(points))] @ m.T
    return p[:, :2] / p[:, 2:3]


def warp(scene: Image.Image, m: np.ndarray, size: tuple[int, int], fill) -> Image.Image:
    """Render `scene` into a picture of `size` through the scene -> picture homography `m`."""
    # Bilinear sampling aliases when shrinking; reduce by whole factors first (a box filter).
    shrink = math.sqrt(abs(np.linalg.det(m[:2, :2])))
    k = int(1 / shrink) if shrink < 0.67 else 1
    if k > 1:
        scene = scene.reduce(k)
        m = m @ np.diag([k, k, 1.0])
    inv = np.linalg.inv(m)
    inv = inv / inv[2, 2]
    return scene.transform(size, Image.PERSPECTIVE, tuple(inv.ravel()[:8]), Image.BILINEAR, fillcolor=fill)


def degrade(rng: np.random.Generator, im: Image.Image, digit_height: float) -> Image.Image:
    """Lighting, defocus, low resolution, sensor noise and JPEG, each with its own chance and strength."""
    a = np.asarray(im, np.float32)
    h, w = a.shape[:2]
    if rng.random() < 0.5:
        # Uneven light: sun on one side, shade on the other.
        ang = rng.uniform(0, 2 * np.pi)
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        r = (np.cos(ang) * x + np.sin(ang) * y) / max(h, w)
        a = a * (1 + rng.uniform(0.1, 0.5) * (r - r.mean()))[..., None]
    if rng.random() < 0.6:
        # Desaturate toward grey and lift or crush the contrast around the mean, as a cheap camera does.
        grey = a @ np.array([0.299, 0.587, 0.114], np.float32)
        a = a + rng.uniform(0, 0.5) * (grey[..., None] - a)
        mean = a.mean()
        a = mean + (a - mean) * rng.uniform(0.75, 1.1)
    a = a + rng.normal(0, 6, 3)  # white balance cast
    im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if rng.random() < 0.25:
        f = rng.uniform(1.3, 2.5)
        small = (max(4, round(w / f)), max(4, round(h / f)))
        im = im.resize(small, Image.BILINEAR).resize((w, h), Image.BILINEAR)
    sigma = digit_height * rng.uniform(0.0, 0.045) + rng.uniform(0, 0.6)
    if sigma > 0.3:
        im = im.filter(ImageFilter.GaussianBlur(sigma))
    a = np.asarray(im, np.float32)
    noise = rng.uniform(0, 7)
    if noise > 1:
        a = a + rng.normal(0, noise, a.shape[:2])[..., None] + rng.normal(0, noise / 3, a.shape)
    im = Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=int(rng.integers(25, 92)))
        im = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return im
