"""Wall and plate textures behind the number: gradients, stucco noise, brick, siding, wood, clutter.

Each function returns an (h, w, 3) float32 picture in 0..255 around a base colour; `scale` is the
digit height in scene pixels, so texture detail stays in proportion to the number.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def value_noise(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """Smooth noise in about -1..1 with features of about `cell` px (a random grid, upsampled)."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    grid = Image.fromarray(rng.uniform(-1, 1, (gh, gw)).astype(np.float32), mode="F")
    return np.asarray(grid.resize((w, h), Image.BICUBIC), np.float32)


def gradient(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A linear ramp of -1..1 in a random direction, shape (h, w)."""
    a = rng.uniform(0, 2 * np.pi)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.cos(a) * x + np.sin(a) * y
    return (r - r.min()) / max(float(np.ptp(r)), 1.0) * 2 - 1


def flat(rng, h, w, colour, scale):
    """Plain paint with a gentle gradient and fine grain."""
    shade = 1 + rng.uniform(0, 0.25) * gradient(rng, h, w) + rng.uniform(0, 0.04) * value_noise(rng, h, w, 2)
    return colour * shade[..., None]


def stucco(rng, h, w, colour, scale):
    """Rendered or weathered wall: blotchy noise at two scales."""
    n = rng.uniform(0.05, 0.2) * value_noise(rng, h, w, scale * rng.uniform(0.3, 1.5))
    n += rng.uniform(0.02, 0.08) * value_noise(rng, h, w, 1.5)
    return colour * (1 + n)[..., None]


def brick(rng, h, w, colour, scale):
    """Brick courses with jittered brick colours and mortar lines."""
    bh = max(3.0, scale * rng.uniform(0.25, 0.7))
    bw = bh * rng.uniform(2.0, 3.5)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    row = np.floor(y / bh).astype(int)
    xs = x + (row % 2) * bw / 2
    col = np.floor(xs / bw).astype(int)
    shades = 1 + rng.normal(0, 0.08, (row.max() + 1, col.max() + 1))
    out = colour * shades[row, col][..., None]
    m = max(1.0, bh * rng.uniform(0.08, 0.2))
    mortar = ((y % bh) < m) | ((xs % bw) < m)
    out[mortar] = rng.uniform(120, 220) * np.ones(3) * rng.uniform(0.85, 1.0, 3)
    return out * (1 + 0.06 * value_noise(rng, h, w, 2))[..., None]


def siding(rng, h, w, colour, scale):
    """Clapboard or panelling: bands with a shadow at each overlap, horizontal or vertical."""
    period = max(3.0, scale * rng.uniform(0.3, 1.2))
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    t = ((x if rng.random() < 0.3 else y) % period) / period
    shade = 1 - rng.uniform(0.1, 0.35) * t**3
    return colour * (shade + 0.03 * value_noise(rng, h, w, 2))[..., None]


def wood(rng, h, w, colour, scale):
    """Wood grain: wavy stripes along the boards."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    along, across = (x, y) if rng.random() < 0.6 else (y, x)
    wobble = value_noise(rng, h, w, scale * 0.8) * scale * 0.3
    grain = np.sin((across + wobble) * 2 * np.pi / max(2.0, scale * rng.uniform(0.08, 0.3)))
    return colour * (1 + rng.uniform(0.04, 0.15) * grain + 0.02 * value_noise(rng, h, w, 1.5))[..., None]


def clutter(rng, h, w, colour, scale):
    """Out-of-focus scene content: blurred boxes and blobs of other colours over the base."""
    im = Image.new("RGB", (w, h), tuple(int(c) for c in np.clip(colour, 0, 255)))
    draw = ImageDraw.Draw(im)
    for _ in range(rng.integers(2, 8)):
        x0, y0 = rng.uniform(-0.2, 1.0) * w, rng.uniform(-0.2, 1.0) * h
        x1, y1 = x0 + rng.uniform(0.1, 0.8) * w, y0 + rng.uniform(0.1, 0.8) * h
        c = tuple(int(v) for v in np.clip(colour * rng.uniform(0.4, 1.5) + rng.normal(0, 30, 3), 0, 255))
        (draw.rectangle if rng.random() < 0.6 else draw.ellipse)((x0, y0, x1, y1), fill=c)
    im = im.filter(ImageFilter.GaussianBlur(scale * rng.uniform(0.05, 0.4)))
    return np.asarray(im, np.float32)


TEXTURES = (flat, stucco, brick, siding, wood, clutter)
TEXTURE_P = np.array([0.30, 0.22, 0.10, 0.14, 0.09, 0.15])


def texture(rng: np.random.Generator, h: int, w: int, colour: np.ndarray, scale: float) -> np.ndarray:
    """A random texture around `colour`, (h, w, 3) float32 clipped to 0..255."""
    kind = TEXTURES[rng.choice(len(TEXTURES), p=TEXTURE_P)]
    return np.clip(kind(rng, h, w, np.asarray(colour, np.float32), scale), 0, 255).astype(np.float32)
