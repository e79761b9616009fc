"""What else a camera sees that is neither a house front nor a house number: round things (coins, eyes,
clock faces without numerals, wheels), pages of small print, railings and blinds, faces, and open
ground under sky.

The outside check (scripts/make_outside_scenes.py) found the detector boxing exactly such things on
photographs it never trained on. `SceneSpec.clutter` draws them for a share of the training frames;
nothing here holds a digit, so every box they would earn is a false one.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from . import colours, decor, facade, fonts, text
from .backgrounds import gradient, value_noise
from .draws import between
from .facade import paint

# Base colours of open ground and sky (RGB): grass, soil, gravel, asphalt, sand, hedge; clear and grey sky.
GROUND = ((95, 140, 60), (110, 85, 60), (140, 135, 125), (85, 85, 90), (200, 185, 150), (50, 75, 40))
SKY = ((135, 175, 225), (185, 195, 205), (215, 220, 225))


def fractal(rng, h: int, w: int, cell: float) -> np.ndarray:
    """Noise with detail at every scale from `cell` px down to 2 px, each octave weaker (bark, grass, cloud)."""
    out, amp = np.zeros((h, w), np.float32), 1.0
    while cell >= 2:
        out += amp * value_noise(rng, h, w, cell)
        amp, cell = amp * rng.uniform(0.45, 0.7), cell / 2
    return out / max(float(np.abs(out).max()), 1e-6)


def outdoor(rng, w: int, h: int) -> Image.Image:
    """Open ground (grass, soil, gravel, asphalt, sand or a hedge) under sky, with an uneven skyline."""
    horizon = int(h * rng.uniform(-0.1, 0.6))
    sky = np.asarray(SKY[rng.integers(len(SKY))], np.float32) + rng.normal(0, 10, 3)
    ground = np.asarray(GROUND[rng.integers(len(GROUND))], np.float32) + rng.normal(0, 15, 3)
    a = np.empty((h, w, 3), np.float32)
    a[:] = sky * (1 + 0.15 * gradient(rng, h, w) + rng.uniform(0, 0.15) * fractal(rng, h, w, h * 0.5))[..., None]
    rough = rng.uniform(0.15, 0.5) * fractal(rng, h, w, h * rng.uniform(0.05, 0.3))
    edge = horizon + (h * 0.04 * value_noise(rng, 1, w, w * 0.1)[0]).astype(int)  # an uneven skyline
    below = np.arange(h)[:, None] >= edge[None, :]
    a[below] = (ground * (1 + rough)[..., None])[below]
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def rings(rng, im: Image.Image, w: int, h: int) -> None:
    """A round thing: a coin, an eye, a clock face with ticks and hands but no numerals, a wheel, a bolt."""
    draw = ImageDraw.Draw(im)
    r = h * rng.uniform(0.02, 0.15)
    x, y, squash = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.6, 1.0)  # squashed: seen at an angle
    for k in range(int(rng.integers(1, 4))):  # concentric: rim, face, iris
        rr = r * (1 - 0.3 * k)
        draw.ellipse([x - rr, y - rr * squash, x + rr, y + rr * squash], fill=paint(rng),
                     outline=paint(rng), width=max(1, int(rr * rng.uniform(0.02, 0.15))))
    ink = paint(rng, (30, 30, 30), 20)
    if rng.random() < 0.4:  # a clock's ticks and hands: strokes like a "1" that must not be read
        for t in np.linspace(0, 2 * np.pi, 12, endpoint=False):
            c, s = np.cos(t), np.sin(t) * squash
            draw.line([(x + 0.75 * r * c, y + 0.75 * r * s), (x + 0.92 * r * c, y + 0.92 * r * s)],
                      fill=ink, width=max(1, int(r * 0.05)))
        for length in (0.5, 0.8):
            t = rng.uniform(0, 2 * np.pi)
            draw.line([(x, y), (x + length * r * np.cos(t), y + length * r * np.sin(t) * squash)], fill=ink,
                      width=max(1, int(r * 0.06)))
    if rng.random() < 0.4:  # a pupil with its highlight
        p = r * rng.uniform(0.15, 0.4)
        draw.ellipse([x - p, y - p * squash, x + p, y + p * squash], fill=paint(rng, (15, 15, 15), 10))
        q = p * 0.3
        draw.ellipse([x - p * 0.3 - q, y - p * 0.3 - q, x - p * 0.3 + q, y - p * 0.3 + q], fill=(245, 245, 245))


def page(rng, im: Image.Image, w: int, h: int) -> None:
    """A notice, poster or newspaper: lines of small print (letters and words only) on a sheet."""
    ink = max(4.0, h * rng.uniform(0.012, 0.04))
    sw, lines = h * rng.uniform(0.15, 0.6), int(rng.integers(3, 9))
    x0, y0 = between(rng, -0.2 * sw, w - 0.8 * sw), between(rng, -ink, h - 0.5 * lines * ink * 1.6)
    fg, bg = colours.sample_pair(rng)
    if rng.random() < 0.7:
        fg, bg = np.array(paint(rng, (30, 30, 30), 20)), np.array(paint(rng, (235, 232, 225), 15))
    ImageDraw.Draw(im).rectangle([x0, y0, x0 + sw, y0 + lines * ink * 1.6 + ink], fill=tuple(int(v) for v in bg))
    family = fonts.families()[rng.integers(len(fonts.families()))]
    words = decor.WORDS + facade.SIGN_WORDS
    for i in range(lines):
        line = " ".join(words[j] for j in rng.integers(0, len(words), int(rng.integers(2, 6))))
        glyphs = text.draw_text(line, family[rng.integers(len(family))], ink, rng)
        fill = glyphs.fill.crop((0, 0, int(min(glyphs.fill.width, sw - ink)), glyphs.fill.height))
        im.paste(tuple(int(v) for v in fg), (int(x0 + ink * 0.5), int(y0 + ink * 0.5 + i * ink * 1.6)), fill)


def rails(rng, im: Image.Image, w: int, h: int) -> None:
    """A railing, fence, blind or radiator: a run of parallel bars (a row of strokes is not a number)."""
    draw = ImageDraw.Draw(im)
    pitch = h * rng.uniform(0.01, 0.06)
    thick, length, n = pitch * rng.uniform(0.2, 0.6), h * rng.uniform(0.1, 0.6), int(rng.integers(4, 20))
    x0, y0, c = rng.uniform(-0.2 * w, w), rng.uniform(-0.2 * h, h), paint(rng)
    vertical = rng.random() < 0.7
    for i in range(n):
        a = i * pitch
        draw.rectangle([x0 + a, y0, x0 + a + thick, y0 + length] if vertical
                       else [x0, y0 + a, x0 + length, y0 + a + thick], fill=c)
    if vertical and rng.random() < 0.6:  # the top and bottom rails
        for yy in (y0, y0 + length - thick):
            draw.rectangle([x0 - thick, yy, x0 + n * pitch, yy + thick], fill=c)


def face(rng, im: Image.Image, w: int, h: int) -> None:
    """A face (a person's, a pet's, one on a poster): a skin or fur oval with two eyes and a mouth."""
    draw = ImageDraw.Draw(im)
    r = h * rng.uniform(0.05, 0.25)
    x, y = rng.uniform(0, w), rng.uniform(0, h)
    skin = paint(rng, [(225, 185, 160), (150, 105, 75), (90, 60, 45), (200, 160, 110), (60, 55, 50)][
        rng.integers(5)], 15)
    draw.ellipse([x - r * 0.8, y - r, x + r * 0.8, y + r], fill=skin)
    eye, dark = r * rng.uniform(0.08, 0.16), paint(rng, (25, 20, 20), 10)
    for side in (-1, 1):
        ex, ey = x + side * r * 0.35, y - r * 0.2
        draw.ellipse([ex - eye * 1.6, ey - eye, ex + eye * 1.6, ey + eye], fill=(235, 235, 230))
        draw.ellipse([ex - eye * 0.8, ey - eye * 0.8, ex + eye * 0.8, ey + eye * 0.8], fill=dark)
    draw.arc([x - r * 0.35, y + r * 0.2, x + r * 0.35, y + r * 0.6], 20, 160, fill=dark,
             width=max(1, int(r * 0.05)))


THINGS = (rings, page, rails, face)


def things(rng: np.random.Generator, im: Image.Image, w: int, h: int) -> Image.Image:
    """Draw one to four such things over `im`, sometimes a little out of focus; returns the picture."""
    for _ in range(int(rng.integers(1, 5))):
        THINGS[rng.integers(len(THINGS))](rng, im, w, h)
    if rng.random() < 0.5:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2) * h / 240))
    return im


def background(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    """A cluttered frame's background: a house front or open ground, with things that are not numbers on it."""
    im = outdoor(rng, w, h) if rng.random() < 0.3 else facade.facade(rng, w, h)
    return things(rng, im, w, h)
