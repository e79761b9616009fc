"""One synthetic house-number picture: glyphs on a wall or plate, seen through a camera, with its boxes.

Everything is drawn in "scene" pixels (digits 24-64 px tall) and mapped to the picture by one
homography, so the digit boxes go through exactly the transform the pixels do.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageFilter

from edge_app.contract import Box

from . import backgrounds, camera, colours, decor, fonts, plates, stats, text

# What `focus` changes, from the shipped model's measured mistakes: 3-4 digit numbers and the digits 1
# and 7 drawn more often (stats.FOCUS_*), thin and light faces as often as regular ones, touching digits
# twice as often (25%), and numbers 40 px or taller twice as often outlined, shadowed or embossed.


class Picture(NamedTuple):
    """A rendered picture and its labels: digits 0..9 left to right, one box each in picture pixels."""

    image: Image.Image
    digits: tuple[int, ...]
    boxes: tuple[Box, ...]


def _pick_face(rng: np.random.Generator, thin: float = 0.3) -> fonts.Face:
    family = fonts.families()[rng.integers(len(fonts.families()))]
    # House numbers are mostly regular to heavy; thin and light cuts are drawn `thin` times as often.
    w = np.array([thin if ("Thin" in f.path or "Light" in f.path) else 1.0 for f in family])
    return family[rng.choice(len(family), p=w / w.sum())]


def _svhn_boxes(rng, ink_boxes, ink: float) -> list[tuple[float, float, float, float]]:
    """SVHN-style boxes: each digit's ink width, the number's common ink height, a little slack."""
    top = min(b[1] for b in ink_boxes) - ink * rng.uniform(0, 0.08)
    bottom = max(b[3] for b in ink_boxes) + ink * rng.uniform(0, 0.08)
    pad = ink * rng.uniform(0, 0.04)
    return [(b[0] - pad, top, b[2] + pad, bottom) for b in ink_boxes]


def _margins(rng, box_h: float, first_w: float, last_w: float) -> tuple[float, float, float, float]:
    """Picture margins (left, top, right, bottom) around the boxes, as SVHN's loose crops; rarely cut."""
    ml, mr = box_h * np.exp(rng.uniform(np.log(0.1), np.log(2.5), 2))
    mt, mb = box_h * rng.uniform(0.05, 0.8, 2)
    if rng.random() < 0.06:
        # The picture's edge cuts into the first or last digit a little.
        if rng.random() < 0.5:
            ml = -first_w * rng.uniform(0, 0.1)
        else:
            mr = -last_w * rng.uniform(0, 0.1)
    return ml, mt, mr, mb


def _corners(b) -> np.ndarray:
    return np.array([[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]]], np.float64)


def _draw_number(rng, scene, glyphs, offset, fg, bg, ink, decorated: float = 1.0) -> None:
    """Shadow, relief, outline and fill of the number, in that order, onto the scene.

    `decorated` scales the chance of a shadow or relief (big real house numbers are often decorative).
    """
    shape = scene.shape[:2]
    fill = decor.paste_mask(shape, glyphs.fill, *offset)
    u = rng.random() / decorated
    if u < 0.2:
        # Drop shadow of raised or stuck-on digits (deeper when decorated: extruded, 3D-looking digits).
        d = ink * rng.uniform(0.03, 0.1 if decorated <= 1 else 0.16)
        shadow = glyphs.fill.filter(ImageFilter.GaussianBlur(d * rng.uniform(0.2, 0.8)))
        decor.blend(scene, decor.paste_mask(shape, shadow, offset[0] + d, offset[1] + d) * rng.uniform(0.3, 0.7), 0.0)
    elif u < 0.32:
        # Relief: lit edge on one side, dark edge on the other (cast, carved or embossed digits).
        d = max(1.0, ink * rng.uniform(0.02, 0.06))
        ang = rng.uniform(0, 2 * math.pi)
        dx, dy = d * math.cos(ang), d * math.sin(ang)
        decor.blend(
            scene,
            decor.paste_mask(shape, glyphs.fill, offset[0] - dx, offset[1] - dy) * 0.6,
            np.clip(bg * 1.5 + 40, 0, 255),
        )
        decor.blend(scene, decor.paste_mask(shape, glyphs.fill, offset[0] + dx, offset[1] + dy) * 0.6, bg * 0.35)
    if glyphs.outline is not None:
        ring = decor.paste_mask(shape, glyphs.outline, *offset)
        decor.blend(scene, ring, np.clip(255 - fg + rng.normal(0, 30, 3), 0, 255))
    if rng.random() < 0.3:
        # Painted or metal digits are not flat: a shading ramp across the ink.
        h, w = shape
        fg = fg * (1 + rng.uniform(0.1, 0.35) * backgrounds.gradient(rng, h, w))[..., None]
    decor.blend(scene, fill, fg)


def render(rng: np.random.Generator, box_height: float | None = None, focus: bool = False,
           plates_share: float = 0.0) -> Picture:
    """Draw one picture from a seeded generator; digit boxes `box_height` px tall (default: as in SVHN);
    `focus` aims it at the measured mistakes (see above); `plates_share` of the pictures are modern plates."""
    # Drawn only when asked for, so the pictures of recipes without plates stay byte for byte the same.
    modern = plates.style(rng) if plates_share > 0 and rng.random() < plates_share else None
    digits = stats.sample_digits(rng, focus)
    face = _pick_face(rng, thin=1.0 if focus else 0.3)
    box_h = stats.sample_box_height(rng)  # picture pixels, as in real SVHN
    box_h = box_h if box_height is None else box_height  # drawn anyway: the stream stays the same
    # Big real numbers are mostly decorative (outlined, shadowed, embossed, serif or script): with
    # focus the chance of decoration doubles from 40 px up.
    decorated = 2.0 if focus and box_h >= 40 else 1.0
    ink = float(np.clip(box_h * rng.uniform(1.0, 1.6), 24, 64))  # scene pixels: render finer, then shrink
    bold = int(ink * rng.uniform(0.02, 0.07)) if rng.random() < 0.3 else 0
    outline = max(1, int(ink * rng.uniform(0.03, 0.08))) if rng.random() < 0.12 * decorated else 0
    if modern is not None:  # plain modern faces, set wide
        bold, outline = 0, 0
    glyphs = text.draw_text("".join(map(str, digits)), face, ink, rng, bold, outline,
                            touching=0.25 if focus else 0.12, gap=modern.gap * ink if modern else None)
    boxes_c = _svhn_boxes(rng, glyphs.boxes, ink)
    x0, x1 = min(b[0] for b in glyphs.boxes), max(b[2] for b in glyphs.boxes)
    y0, y1 = min(b[1] for b in glyphs.boxes), max(b[3] for b in glyphs.boxes)

    # Pose: scene -> picture, centred on the number, then shifted so the margins fit.
    scale = box_h / (boxes_c[0][3] - boxes_c[0][1])
    stretch = float(np.clip(np.exp(rng.normal(math.log(0.68), 0.16)), 0.45, 1.2))  # SVHN digits are narrow
    m = camera.pose(rng, scale, stretch, (x1 - x0) * scale * stretch) @ camera.translate(-(x0 + x1) / 2, -(y0 + y1) / 2)
    quads = [camera.apply(m, _corners(b)) for b in boxes_c]
    aabb = [(q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max()) for q in quads]
    ux0, uy0 = min(b[0] for b in aabb), min(b[1] for b in aabb)
    ux1, uy1 = max(b[2] for b in aabb), max(b[3] for b in aabb)
    ml, mt, mr, mb = _margins(rng, box_h, aabb[0][2] - aabb[0][0], aabb[-1][2] - aabb[-1][0])
    size = (max(8, math.ceil(ux1 - ux0 + ml + mr)), max(8, math.ceil(uy1 - uy0 + mt + mb)))
    m = camera.translate(ml - ux0, mt - uy0) @ m
    boxes = tuple(Box(b[0] + ml - ux0, b[1] + mt - uy0, b[2] - b[0], b[3] - b[1]) for b in aabb)

    # The scene only needs to cover what the picture sees (its corners mapped back), plus a rim.
    back = camera.apply(np.linalg.inv(m), np.array([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]]))
    lim = 8 * ink
    sx0 = math.floor(max(back[:, 0].min(), x0 - lim)) - 2
    sy0 = math.floor(max(back[:, 1].min(), y0 - lim)) - 2
    sx1 = math.ceil(min(back[:, 0].max(), x1 + lim)) + 2
    sy1 = math.ceil(min(back[:, 1].max(), y1 + lim)) + 2

    rect = (x0 - sx0, y0 - sy0, x1 - sx0, y1 - sy0)
    if modern is None:
        fg, bg = colours.sample_pair(rng)
        on_plate = rng.random() < 0.45
        wall = colours.pairs()[rng.integers(len(colours.pairs())), 1] + rng.normal(0, 12, 3) if on_plate else bg
        scene = backgrounds.texture(rng, sy1 - sy0, sx1 - sx0, np.clip(wall, 0, 255), ink)
        clear = decor.plate(rng, scene, rect, bg, ink) if on_plate else rect
    else:
        scene = plates.wall(rng, sy1 - sy0, sx1 - sx0, modern.wall, ink)
        fg = modern.fg
        bg = modern.plate if modern.plate is not None else scene.mean((0, 1))
        clear = plates.draw_plate(rng, scene, rect, modern, ink) if modern.plate is not None else rect
        decorated = 2.0 if modern.plate is None else decorated  # digits fixed on a wall cast shadows
    decor.edges(rng, scene, clear, ink, int(rng.choice([0, 0, 1, 1, 2])))
    decor.distractors(rng, scene, clear, ink, fg, int(rng.choice([0, 0, 0, 1, 1, 2])))
    _draw_number(rng, scene, glyphs, (-sx0, -sy0), fg, bg, ink, decorated)

    im = Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8))
    im = camera.warp(im, m @ camera.translate(sx0, sy0), size, tuple(int(c) for c in scene[0, 0]))
    im = camera.degrade(rng, im, box_h)
    return Picture(im, tuple(digits), boxes)
