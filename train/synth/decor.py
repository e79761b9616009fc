"""What surrounds a number: the plate it is on, door frames and edges, other text nearby.

All work on an (h, w, 3) float32 scene in place; `rect` is the number's ink rectangle (x0, y0, x1, y1)
in scene pixels and `scale` the digit height in scene pixels. Nothing is drawn over `rect`.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from . import backgrounds, fonts, text
from .draws import between

LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZabcdehnorstuv"
WORDS = ("St", "Ave", "Rd", "No", "APT", "Suite", "Unit", "Dr", "Bldg", "Blvd", "Ln")


def blend(scene: np.ndarray, alpha: np.ndarray, colour) -> None:
    """Paint `colour` (RGB or an (h, w, 3) picture) over `scene` where `alpha` (h, w, 0..1) says."""
    a = alpha[..., None]
    scene *= 1 - a
    scene += a * colour


def paste_mask(shape: tuple[int, int], mask: Image.Image, x: float, y: float) -> np.ndarray:
    """An (h, w) 0..1 alpha of scene size with `mask` placed at (x, y), cropped at the edges."""
    canvas = Image.new("L", (shape[1], shape[0]))
    canvas.paste(mask, (int(round(x)), int(round(y))))
    return np.asarray(canvas, np.float32) / 255.0


def plate(rng, scene, rect, colour, scale) -> tuple[float, float, float, float]:
    """A plate or sign behind the number, sometimes bordered and casting a shadow; returns its rectangle."""
    h, w = scene.shape[:2]
    px, py = scale * rng.uniform(0.12, 0.7), scale * rng.uniform(0.1, 0.45)
    box = (rect[0] - px, rect[1] - py, rect[2] + px, rect[3] + py)
    radius = scale * rng.choice([0.0, rng.uniform(0.05, 0.4)])
    if rng.random() < 0.4:
        shadow = Image.new("L", (w, h))
        d = scale * rng.uniform(0.04, 0.15)
        ImageDraw.Draw(shadow).rounded_rectangle([box[0] + d, box[1] + d, box[2] + d, box[3] + d], radius, fill=255)
        shadow = shadow.filter(ImageFilter.GaussianBlur(d))
        blend(scene, np.asarray(shadow, np.float32) / 255 * rng.uniform(0.3, 0.6), 0.0)
    mask = Image.new("L", (w, h))
    ImageDraw.Draw(mask).rounded_rectangle(box, radius, fill=255)
    fill = backgrounds.texture(rng, h, w, colour, scale) if rng.random() < 0.3 else colour
    blend(scene, np.asarray(mask, np.float32) / 255, fill)
    if rng.random() < 0.35:
        # A printed or raised border inset from the plate's edge.
        inset = scale * between(rng, 0.04, min(0.12, min(px, py) / scale * 0.6))
        ring = Image.new("L", (w, h))
        width = max(1, int(scale * rng.uniform(0.03, 0.08)))
        inner = [box[0] + inset, box[1] + inset, box[2] - inset, box[3] - inset]
        ImageDraw.Draw(ring).rounded_rectangle(inner, max(0.0, radius - inset), outline=255, width=width)
        blend(scene, np.asarray(ring, np.float32) / 255, colour * rng.uniform(0.2, 1.6))
    return box


def edges(rng, scene, rect, scale, count: int) -> None:
    """Door frames, wall corners, pipes: straight bands of another colour beside the number."""
    h, w = scene.shape[:2]
    for _ in range(count):
        vertical = rng.random() < 0.7
        width = scale * rng.uniform(0.05, 0.8)
        gap = scale * rng.uniform(0.25, 2.0)
        colour = np.clip(scene.mean((0, 1)) * rng.uniform(0.3, 1.6) + rng.normal(0, 25, 3), 0, 255)
        m = np.zeros((h, w), np.float32)
        if vertical:
            x0 = rect[0] - gap - width if rng.random() < 0.5 else rect[2] + gap
            m[:, max(0, int(x0)) : max(0, int(x0 + width))] = 1
        else:
            y0 = rect[1] - gap - width if rng.random() < 0.5 else rect[3] + gap
            m[max(0, int(y0)) : max(0, int(y0 + width)), :] = 1
        blend(scene, m, colour)


def distractors(rng, scene, rect, scale, colour, count: int) -> None:
    """Other text near the number (street names, letters, unit numbers), kept clear of the number."""
    h, w = scene.shape[:2]
    families = fonts.families()
    for _ in range(count):
        kind = rng.random()
        if kind < 0.4:
            s = WORDS[rng.integers(len(WORDS))]
        elif kind < 0.7:
            s = "".join(LETTERS[i] for i in rng.integers(0, len(LETTERS), rng.integers(1, 4)))
        else:
            s = "".join(str(d) for d in rng.integers(0, 10, rng.integers(1, 5)))
        fam = families[rng.integers(len(families))]
        g = text.draw_text(s, fam[rng.integers(len(fam))], scale * rng.uniform(0.25, 0.8), rng)
        gw, gh = g.fill.size
        # Beside the number, horizontally clear by at least a quarter digit (plus the region's 15%).
        side = rng.integers(4)
        clear = scale * rng.uniform(0.3, 1.0) + 0.15 * (rect[2] - rect[0])
        if side == 0:
            x, y = rect[0] - clear - gw, between(rng, rect[1] - gh, rect[3])
        elif side == 1:
            x, y = rect[2] + clear, between(rng, rect[1] - gh, rect[3])
        elif side == 2:
            x, y = rng.uniform(rect[0] - gw, rect[2]), rect[1] - scale * rng.uniform(0.2, 0.6) - gh
        else:
            x, y = rng.uniform(rect[0] - gw, rect[2]), rect[3] + scale * rng.uniform(0.2, 0.6)
        c = colour if rng.random() < 0.6 else np.clip(colour * rng.uniform(0.3, 1.7) + rng.normal(0, 30, 3), 0, 255)
        blend(scene, paste_mask((h, w), g.fill, x, y), c)
