"""Modern house-number plates, as doors and walls show them today rather than as Street View's SVHN does.

Real photographs of house numbers (../shared/data/real_numbers) show what SVHN holds little of: large sans and
serif digits set wide, on brushed metal, brass, ceramic, acrylic or enamel plates (oval or rounded, held by
screws, casting a shadow), or single metal and vinyl digits fixed straight onto brick, render, wood, siding or
glass. `style` draws one of those looks; render.render uses it for a share of its pictures (`plates`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from . import backgrounds
from .decor import blend

# (name, digit colours, plate colours): RGB centres, each drawn with a little jitter. None: no plate, the digits
# are fixed on the wall itself.
MATERIALS = (
    ("brushed steel", [(40, 40, 45), (20, 20, 25)], [(185, 188, 190), (160, 163, 168), (205, 205, 200)]),
    ("brass", [(30, 25, 20), (60, 45, 25)], [(181, 148, 72), (200, 170, 95), (150, 120, 60)]),
    ("black on brushed", [(200, 200, 200), (220, 190, 120)], [(30, 30, 32), (45, 45, 48)]),
    ("ceramic", [(30, 60, 140), (20, 20, 20), (120, 30, 30)], [(235, 235, 228), (245, 240, 225)]),
    ("acrylic", [(245, 245, 245), (20, 20, 20)], [(25, 25, 28), (240, 240, 240), (60, 70, 80)]),
    ("enamel", [(245, 245, 245)], [(20, 50, 120), (140, 20, 25), (20, 80, 50), (30, 30, 35)]),
    ("metal digits", [(30, 30, 32), (181, 148, 72), (190, 192, 195), (245, 245, 245)], None),
    ("vinyl on glass", [(245, 245, 245), (200, 170, 80), (20, 20, 20)], None),
)
WALLS = ("render", "brick", "wood", "siding", "glass")


class Style(NamedTuple):
    """How a plate number looks: digit and plate colours (plate None: on the wall), the wall, the plate's shape."""

    fg: np.ndarray
    plate: np.ndarray | None
    wall: str
    oval: bool
    screws: int  # 0, 2 or 4
    brushed: bool
    gap: float  # ink-to-ink spacing as a share of the digit height: modern plates set digits wide


def style(rng: np.random.Generator) -> Style:
    """Draw one modern plate's look."""
    _, fgs, plates = MATERIALS[rng.integers(len(MATERIALS))]
    fg = np.clip(np.array(fgs[rng.integers(len(fgs))], np.float32) + rng.normal(0, 10, 3), 0, 255)
    plate = None
    if plates is not None:
        plate = np.clip(np.array(plates[rng.integers(len(plates))], np.float32) + rng.normal(0, 10, 3), 0, 255)
    brushed = plate is not None and plate.mean() > 120 and rng.random() < 0.6
    return Style(fg, plate, WALLS[rng.integers(len(WALLS))], bool(rng.random() < 0.25),
                 int(rng.choice([0, 2, 2, 4])), brushed, float(rng.uniform(0.12, 0.6)))


def wall(rng: np.random.Generator, h: int, w: int, kind: str, scale: float) -> np.ndarray:
    """The wall behind a plate: rendered, brick, wood, siding or dark glass with a reflection."""
    colours = {"render": (215, 205, 185), "brick": (150, 70, 50), "wood": (140, 95, 60), "siding": (200, 205, 210),
               "glass": (45, 55, 60)}
    colour = np.clip(np.array(colours[kind], np.float32) + rng.normal(0, 20, 3), 0, 255)
    if kind == "glass":
        reflection = backgrounds.clutter(rng, h, w, colour, scale * 3)
        return np.clip(colour + 0.35 * (reflection - colour), 0, 255).astype(np.float32)
    draw = {"render": backgrounds.stucco, "brick": backgrounds.brick, "wood": backgrounds.wood,
            "siding": backgrounds.siding}[kind]
    return np.clip(draw(rng, h, w, colour, scale), 0, 255).astype(np.float32)


def brushed(rng: np.random.Generator, h: int, w: int, colour: np.ndarray) -> np.ndarray:
    """Brushed metal: fine streaks along the plate and a soft sheen across it."""
    streaks = backgrounds.value_noise(rng, 1, w if rng.random() < 0.8 else h, 1.5)
    streaks = np.tile(streaks[0], (h, 1)) if streaks.shape[1] == w else np.tile(streaks[0][:, None], (1, w))
    sheen = backgrounds.gradient(rng, h, w)
    return colour * (1 + 0.06 * streaks + 0.12 * sheen)[..., None]


def draw_plate(rng: np.random.Generator, scene: np.ndarray, rect, look: Style, scale: float) -> tuple:
    """The plate under the number's ink rectangle (x0, y0, x1, y1): shadow, body, bevel and screws; its box."""
    h, w = scene.shape[:2]
    px, py = scale * rng.uniform(0.35, 0.9), scale * rng.uniform(0.2, 0.5)
    if look.screws and not look.oval:
        px += scale * 0.35  # room for the screws beside the digits
    box = (rect[0] - px, rect[1] - py, rect[2] + px, rect[3] + py)
    radius = 0.0 if look.oval else scale * rng.choice([0.0, rng.uniform(0.05, 0.3)])

    def shape(offset: float = 0.0) -> Image.Image:
        mask = Image.new("L", (w, h))
        b = [box[0] + offset, box[1] + offset, box[2] + offset, box[3] + offset]
        (ImageDraw.Draw(mask).ellipse(b, fill=255) if look.oval else
         ImageDraw.Draw(mask).rounded_rectangle(b, radius, fill=255))
        return mask

    # Plates stand off the wall on spacers: a soft shadow down and to one side.
    d = scale * rng.uniform(0.04, 0.15)
    shadow = shape(d).filter(ImageFilter.GaussianBlur(d))
    blend(scene, np.asarray(shadow, np.float32) / 255 * rng.uniform(0.3, 0.6), 0.0)
    body = np.asarray(shape(), np.float32) / 255
    if look.brushed:
        fill = brushed(rng, h, w, look.plate)
    else:
        fill = look.plate * (1 + 0.1 * backgrounds.gradient(rng, h, w))[..., None]
    blend(scene, body, np.clip(fill, 0, 255))
    # A bevel: the plate's rim catches the light on one side.
    rim = np.clip(body - np.asarray(shape().filter(ImageFilter.MinFilter(3)), np.float32) / 255, 0, 1)
    blend(scene, rim * 0.6, np.clip(look.plate * 1.3 + 30, 0, 255))
    screw_points = []
    if look.screws == 2:
        cy = (box[1] + box[3]) / 2
        screw_points = [(box[0] + px * 0.4, cy), (box[2] - px * 0.4, cy)]
    elif look.screws == 4:
        inset = min(px, py) * 0.5
        screw_points = [(x, y) for x in (box[0] + inset, box[2] - inset) for y in (box[1] + inset, box[3] - inset)]
    for x, y in screw_points:
        screw(scene, x, y, max(1.0, scale * rng.uniform(0.05, 0.09)), look.plate)
    return box


def screw(scene: np.ndarray, x: float, y: float, r: float, colour: np.ndarray) -> None:
    """A round screw head: a darker disc with a lit edge."""
    h, w = scene.shape[:2]
    mask = Image.new("L", (w, h))
    ImageDraw.Draw(mask).ellipse([x - r, y - r, x + r, y + r], fill=255)
    blend(scene, np.asarray(mask, np.float32) / 255, np.clip(colour * 0.55 + 40, 0, 255))
    lit = Image.new("L", (w, h))
    ImageDraw.Draw(lit).arc([x - r, y - r, x + r, y + r], 200, 340, fill=255, width=max(1, int(r / 2)))
    blend(scene, np.asarray(lit, np.float32) / 255 * 0.7, 235.0)
