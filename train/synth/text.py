"""Lay out and draw a number's glyphs as alpha masks, with each digit's tight ink box."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw

from . import fonts


class Glyphs(NamedTuple):
    """A drawn number: ink mask, outline mask (or None), per-digit ink boxes (x0, y0, x1, y1) in mask pixels."""

    fill: Image.Image  # L, 255 = ink
    outline: Image.Image | None  # L, the ink grown by the outline width
    boxes: list[tuple[float, float, float, float]]


def sample_gap(rng: np.random.Generator, ink_height: float, touching: float = 0.12) -> float:
    """Ink-to-ink spacing: mostly tight as on plates, sometimes wide, sometimes (`touching`) touching or overlapping."""
    u = rng.random()
    if u < touching:
        return ink_height * rng.uniform(-0.12, 0.0)
    u = 0.12 + (u - touching) * 0.88 / (1 - touching)  # the rest keeps its wide/tight proportions
    if u < 0.12:
        return ink_height * rng.uniform(-0.12, 0.0)
    if u < 0.27:
        return ink_height * rng.uniform(0.2, 0.7)
    return ink_height * abs(rng.normal(0.08, 0.06))


def ink_box(font, ch: str, stroke: int) -> tuple[int, int, int, int]:
    """The tight ink box of one character drawn at the origin (font.getbbox spans the advance, not the ink)."""
    left, top, right, bottom = font.getbbox(ch, stroke_width=stroke)
    im = Image.new("L", (right - left + 4, bottom - top + 4))
    ImageDraw.Draw(im).text((2 - left, 2 - top), ch, font=font, fill=255, stroke_width=stroke, stroke_fill=255)
    box = im.getbbox() or (2, 2, 3, 3)
    return box[0] + left - 2, box[1] + top - 2, box[2] + left - 2, box[3] + top - 2


def draw_text(
    text: str,
    face: fonts.Face,
    ink_height: float,
    rng: np.random.Generator,
    bold: int = 0,
    outline: int = 0,
    pad: int = 0,
    touching: float = 0.12,
    gap: float | None = None,
) -> Glyphs:
    """Draw `text` so its digits are about `ink_height` px tall; `bold`/`outline` are stroke widths in px; `gap` the
    ink-to-ink spacing in px (default: drawn by sample_gap)."""
    size = max(6, round(ink_height / fonts.digit_height_per_px(face.path)))
    font = fonts.load(face.path, size)
    gap = sample_gap(rng, ink_height, touching) if gap is None else gap
    jitter = ink_height * 0.04 if rng.random() < 0.2 else 0.0  # hand-fixed digits sit unevenly
    placed = []  # (origin x, origin y, ink box)
    x = 0.0
    for ch in text:
        left, top, right, bottom = ink_box(font, ch, bold)
        dy = rng.normal(0, jitter) if jitter else 0.0
        placed.append((x - left, dy, (x, top + dy, x + right - left, bottom + dy)))
        x += right - left + gap
    y0 = min(b[1] for _, _, b in placed)
    y1 = max(b[3] for _, _, b in placed)
    x1 = max(b[2] for _, _, b in placed)
    margin = pad + outline + 2
    w, h = int(np.ceil(x1 + 2 * margin)), int(np.ceil(y1 - y0 + 2 * margin))
    ox, oy = margin, margin - y0  # canvas offset of the layout origin
    fill = Image.new("L", (w, h))
    draw = ImageDraw.Draw(fill)
    for (gx, dy, _), ch in zip(placed, text):
        draw.text((gx + ox, dy + oy), ch, font=font, fill=255, stroke_width=bold, stroke_fill=255)
    ring = None
    if outline:
        ring = Image.new("L", (w, h))
        draw = ImageDraw.Draw(ring)
        for (gx, dy, _), ch in zip(placed, text):
            draw.text((gx + ox, dy + oy), ch, font=font, fill=255, stroke_width=bold + outline, stroke_fill=255)
    boxes = [(b[0] + ox, b[1] + oy, b[2] + ox, b[3] + oy) for _, _, b in placed]
    return Glyphs(fill, ring, boxes)
