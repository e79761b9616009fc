"""Facades behind the house numbers of a scene: a wall with doors, windows, lamps, foliage, mailboxes,
pipes and signs whose text is never a house number (letters and words only).

Everything is drawn at frame size with Pillow on top of a wall texture from backgrounds.py.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from . import backgrounds, colours, decor, fonts, text
from .draws import between

SIGN_WORDS = ("PRIVATE", "NO PARKING", "WELCOME", "POST", "DELIVERIES", "OFFICE", "EXIT", "PUSH", "PULL",
              "CLOSED", "OPEN", "BELL", "Smith", "Miller", "Garage", "Entrance", "Reception", "KEEP CLEAR")


def paint(rng, base=None, spread: float = 40.0) -> tuple[int, int, int]:
    """A fill colour near `base`, or near a measured plate or wall colour when none is given."""
    c = colours.pairs()[rng.integers(len(colours.pairs())), rng.integers(2)] if base is None else np.asarray(base)
    return tuple(int(v) for v in np.clip(c + rng.normal(0, spread, 3), 0, 255))


def _shade(c, f: float) -> tuple[int, int, int]:
    return tuple(int(np.clip(v * f, 0, 255)) for v in c)


def door(rng, draw: ImageDraw.ImageDraw, w: int, h: int) -> None:
    """A door with its frame, panels and a knob, standing on (or below) the bottom edge."""
    dh = h * rng.uniform(0.5, 1.1)
    dw = dh * rng.uniform(0.35, 0.5)
    x0, y1 = rng.uniform(-0.3 * dw, w - 0.7 * dw), h + rng.uniform(-0.05, 0.3) * dh
    body = paint(rng)
    frame = paint(rng)
    m = dw * rng.uniform(0.05, 0.12)
    draw.rectangle([x0 - m, y1 - dh - m, x0 + dw + m, y1], fill=frame)
    draw.rectangle([x0, y1 - dh, x0 + dw, y1], fill=body)
    for i in range(int(rng.integers(0, 4))):  # panels, a little darker or lighter than the door
        py = y1 - dh + dh * (0.08 + 0.3 * i)
        draw.rectangle([x0 + 0.15 * dw, py, x0 + 0.85 * dw, py + 0.22 * dh],
                       outline=_shade(body, rng.uniform(0.6, 1.3)),
                       width=max(1, int(dw * 0.03)))
    k = dw * 0.05
    kx, ky = x0 + dw * rng.choice([0.12, 0.88]), y1 - dh * 0.45
    draw.ellipse([kx - k, ky - k, kx + k, ky + k], fill=paint(rng, (200, 180, 90)))


def window(rng, draw, w: int, h: int) -> None:
    """A window: frame, dark or sky-lit glass with a reflection band, and glazing bars."""
    ww, wh = h * rng.uniform(0.15, 0.6), h * rng.uniform(0.2, 0.7)
    x0, y0 = between(rng, -0.3 * ww, w - 0.7 * ww), between(rng, -0.3 * wh, h - 0.7 * wh)
    frame = paint(rng, (230, 230, 225)) if rng.random() < 0.5 else paint(rng)
    m = ww * rng.uniform(0.04, 0.1)
    draw.rectangle([x0 - m, y0 - m, x0 + ww + m, y0 + wh + m], fill=frame)
    glass = paint(rng, (60, 75, 90) if rng.random() < 0.6 else (150, 175, 200), 25)
    draw.rectangle([x0, y0, x0 + ww, y0 + wh], fill=glass)
    s = rng.uniform(0.1, 0.8) * ww
    draw.polygon([(x0 + s, y0), (x0 + s + 0.2 * ww, y0), (x0 + s - 0.1 * ww, y0 + wh), (x0 + s - 0.3 * ww, y0 + wh)],
                 fill=_shade(glass, rng.uniform(1.1, 1.5)))
    bars = max(1, int(m * rng.uniform(0.4, 0.8)))
    for i in range(1, int(rng.integers(1, 4))):
        draw.line([(x0 + ww * i / 3, y0), (x0 + ww * i / 3, y0 + wh)], fill=frame, width=bars)
    if rng.random() < 0.6:
        draw.line([(x0, y0 + wh / 2), (x0 + ww, y0 + wh / 2)], fill=frame, width=bars)


def lamp(rng, draw, w: int, h: int) -> None:
    """A wall lamp: a mount and a bright globe or box."""
    s = h * rng.uniform(0.04, 0.12)
    x, y = rng.uniform(0, w), rng.uniform(0, h * 0.7)
    draw.rectangle([x - s * 0.2, y - s * 0.3, x + s * 0.2, y + s * 1.1], fill=paint(rng, (40, 40, 40), 20))
    glow = paint(rng, (250, 235, 180), 15) if rng.random() < 0.6 else paint(rng, (200, 200, 200), 30)
    shape = draw.ellipse if rng.random() < 0.6 else draw.rectangle
    shape([x - s * 0.5, y - s * 0.6, x + s * 0.5, y + s * 0.7], fill=glow, outline=(30, 30, 30),
          width=max(1, int(s * 0.06)))


def foliage(rng, draw, w: int, h: int) -> None:
    """A shrub or climber: a cluster of leaf blobs in greens."""
    cx, cy = rng.uniform(0, w), rng.uniform(h * 0.3, h * 1.1)
    r = h * rng.uniform(0.1, 0.4)
    base = np.array([rng.uniform(30, 90), rng.uniform(70, 140), rng.uniform(20, 70)])
    for _ in range(int(rng.integers(40, 160))):
        x, y = cx + rng.normal(0, r * 0.6), cy + rng.normal(0, r * 0.5)
        s = r * rng.uniform(0.03, 0.12)
        draw.ellipse([x - s, y - s * 0.7, x + s, y + s * 0.7], fill=paint(rng, base * rng.uniform(0.5, 1.4), 12))


def mailbox(rng, draw, w: int, h: int) -> None:
    """A mailbox: a box with a darker slot."""
    bw, bh = h * rng.uniform(0.08, 0.2), h * rng.uniform(0.08, 0.25)
    x0, y0 = between(rng, 0, w - bw), between(rng, 0, h - bh)
    body = paint(rng, [(30, 30, 30), (160, 30, 30), (40, 90, 50), (170, 170, 175)][rng.integers(4)], 20)
    draw.rectangle([x0, y0, x0 + bw, y0 + bh], fill=body, outline=_shade(body, 0.6), width=max(1, int(bw * 0.04)))
    draw.rectangle([x0 + bw * 0.15, y0 + bh * 0.2, x0 + bw * 0.85, y0 + bh * 0.3], fill=_shade(body, 0.3))


def pipe(rng, draw, w: int, h: int) -> None:
    """A drainpipe, cable duct or wall corner: a long band."""
    t = h * rng.uniform(0.01, 0.06)
    c = paint(rng)
    if rng.random() < 0.7:
        x = rng.uniform(0, w)
        draw.rectangle([x, 0, x + t, h], fill=c)
    else:
        y = rng.uniform(0, h)
        draw.rectangle([0, y, w, y + t], fill=c)


def sign(rng, im: Image.Image, w: int, h: int) -> None:
    """A plate with letters or words on it: text that the detector must learn is not a house number."""
    kind = rng.random()
    if kind < 0.5:
        words = SIGN_WORDS[rng.integers(len(SIGN_WORDS))]
    elif kind < 0.8:
        words = decor.WORDS[rng.integers(len(decor.WORDS))]
    else:
        words = "".join(decor.LETTERS[i] for i in rng.integers(0, len(decor.LETTERS), rng.integers(1, 4)))
    family = fonts.families()[rng.integers(len(fonts.families()))]
    ink = float(np.clip(h * rng.uniform(0.03, 0.15), 8, 64))
    glyphs = text.draw_text(words, family[rng.integers(len(family))], ink, rng)
    gw, gh = glyphs.fill.size
    fg, bg = colours.sample_pair(rng)
    pad = ink * rng.uniform(0.2, 0.6)
    x0, y0 = between(rng, -0.2 * gw, w - 0.8 * gw), between(rng, 0, h - gh)
    draw = ImageDraw.Draw(im)
    if rng.random() < 0.8:
        draw.rounded_rectangle([x0 - pad, y0 - pad, x0 + gw + pad, y0 + gh + pad], radius=pad * rng.uniform(0, 0.8),
                               fill=tuple(int(v) for v in bg))
    im.paste(tuple(int(v) for v in fg), (int(x0), int(y0)), glyphs.fill)


ELEMENTS = (door, window, lamp, foliage, mailbox, pipe)
ELEMENT_P = np.array([0.18, 0.24, 0.12, 0.16, 0.12, 0.18])


def facade(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    """A w x h RGB picture of a house front without any house number on it."""
    wall = colours.pairs()[rng.integers(len(colours.pairs())), 1] + rng.normal(0, 15, 3)
    scale = h * rng.uniform(0.06, 0.2)  # brick course, siding board: in proportion to the frame
    a = backgrounds.texture(rng, h, w, np.clip(wall, 0, 255), scale)
    if rng.random() < 0.3:  # a second material above or below a line (plinth, cladding)
        y = int(h * rng.uniform(0.2, 0.8))
        other = colours.pairs()[rng.integers(len(colours.pairs())), 1]
        a[y:] = backgrounds.texture(rng, h - y, w, other, scale)
    im = Image.fromarray(a.astype(np.uint8))
    draw = ImageDraw.Draw(im)
    for _ in range(int(rng.integers(1, 6))):
        ELEMENTS[rng.choice(len(ELEMENTS), p=ELEMENT_P)](rng, draw, w, h)
    for _ in range(int(rng.choice([0, 1, 1, 2, 3]))):
        sign(rng, im, w, h)
    if rng.random() < 0.5:  # drawn shapes are too crisp: soften them a little
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2) * h / 240))
    return im
