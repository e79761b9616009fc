"""One camera frame of a house front holding 0, 1 or 2 house numbers, with every digit box in frame pixels.

A number is a whole synthetic picture from render.py (its plate, wall, pose and camera) or a real
rebuilt SVHN picture, scaled so the number is 5-40% of the frame height and pasted with feathered
borders onto a facade. Decoy patches made the same way but holding only letters are pasted too, so
a pasted patch's border says nothing about a number. Then the whole frame goes through a slight
perspective and the camera's degradations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from edge_app.annotations import read_annotations
from edge_app.contract import Box, expand_box, load_image, union_box

from . import backgrounds, camera, clutter, colours, decor, facade, fonts, text
from .draws import between
from .render import render


@dataclass(frozen=True)
class SceneSpec:
    """What a scene folder is made of."""

    size: tuple[int, int] = (640, 480)  # frame width, height
    empty_share: float = 0.15  # frames without a number
    two_share: float = 0.1  # frames with two numbers
    height_range: tuple[float, float] = (0.05, 0.40)  # number height / frame height, drawn log-uniform
    real: Path | None = None  # folder of real labelled pictures to paste (recon/train; recon/test for dev)
    real_share: float = 0.5  # share of the numbers taken from `real` when given
    photos: Path | None = None  # folder of photographs to use whole as backgrounds instead of a drawn facade
    clutter: float = 0.0  # share of drawn frames given things that are not numbers (clutter.py); 0 draws as before
    plates: float = 0.0  # share of drawn numbers that are modern plates (plates.py); 0 draws as before


class Number(NamedTuple):
    """A number in a frame: digits 0..9 left to right and their boxes in frame pixels."""

    digits: tuple[int, ...]
    boxes: tuple[Box, ...]


class Scene(NamedTuple):
    """A frame and its numbers (empty for a frame without one)."""

    image: Image.Image
    numbers: tuple[Number, ...]


@lru_cache(maxsize=2)
def _real_annotations(folder: Path):
    return read_annotations(folder)


def real_number(rng, folder: Path, height: float, max_width: float = math.inf) -> tuple[np.ndarray, Number]:
    """A real picture scaled so its number is `height` px tall (less where it would be wider than `max_width`)."""
    annotations = _real_annotations(folder)
    a = annotations[rng.integers(len(annotations))]
    image = Image.fromarray(load_image(folder / a.name))
    u = union_box(a.boxes)
    s = min(height / u.height, max_width / u.width)
    size = (max(1, round(image.width * s)), max(1, round(image.height * s)))
    sx, sy = size[0] / image.width, size[1] / image.height
    boxes = tuple(Box(b.left * sx, b.top * sy, b.width * sx, b.height * sy) for b in a.boxes)
    return np.asarray(image.resize(size, Image.BILINEAR), np.float32), Number(a.digits, boxes)


def _synthetic_number(rng, height: float, plates: float = 0.0) -> tuple[np.ndarray, Number]:
    """A picture from the house-number renderer whose digit boxes are `height` px tall."""
    picture = render(rng, box_height=height, plates_share=plates)
    return np.asarray(picture.image, np.float32), Number(picture.digits, picture.boxes)


PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def photo_files(folder: Path) -> tuple[Path, ...]:
    """The pictures of a --photos folder, sorted so a seed picks the same ones everywhere (listed each time: a
    listing costs microseconds against a frame's 300 ms, and a cached one would miss a changed folder)."""
    return tuple(sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in PHOTO_SUFFIXES))


def photo_background(rng, folder: Path, w: int, h: int) -> np.ndarray:
    """A random crop (60-100% of the largest in the frame's aspect) of one of the folder's photographs, resized
    to w x h. Never mirrored: a camera does not mirror the text in its view."""
    files = photo_files(folder)
    im = Image.fromarray(load_image(files[rng.integers(len(files))]))
    cw = min(im.width, im.height * w / h) * rng.uniform(0.6, 1.0)
    ch = cw * h / w
    x0, y0 = rng.uniform(0, im.width - cw), rng.uniform(0, im.height - ch)
    return np.asarray(im.resize((w, h), Image.BILINEAR, box=(x0, y0, x0 + cw, y0 + ch)), np.float32).copy()


def decoy(rng, height: float) -> np.ndarray:
    """A patch like a rendered number's (wall, plate), holding letters or a word instead."""
    words = decor.WORDS + facade.SIGN_WORDS
    s = words[rng.integers(len(words))] if rng.random() < 0.6 else "".join(
        decor.LETTERS[i] for i in rng.integers(0, len(decor.LETTERS), rng.integers(1, 5)))
    family = fonts.families()[rng.integers(len(fonts.families()))]
    ink = float(np.clip(height * rng.uniform(1.0, 1.6), 24, 64))
    glyphs = text.draw_text(s, family[rng.integers(len(family))], ink, rng)
    gw, gh = glyphs.fill.size
    pad = ink * rng.uniform(0.5, 2.0)
    h, w = int(gh + 2 * pad), int(gw + 2 * pad)
    fg, bg = colours.sample_pair(rng)
    scene = backgrounds.texture(rng, h, w, bg, ink)
    if rng.random() < 0.5:
        decor.plate(rng, scene, (pad, pad, pad + gw, pad + gh), bg * rng.uniform(0.7, 1.3), ink)
    decor.blend(scene, decor.paste_mask((h, w), glyphs.fill, pad, pad), fg)
    im = Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8))
    k = height / ink  # the frame's own camera degradations follow, as for the numbers' patches
    return np.asarray(im.resize((max(4, round(w * k)), max(4, round(h * k))), Image.BILINEAR), np.float32)


def feather(shape: tuple[int, int], width: float) -> np.ndarray:
    """(h, w) alpha: 1 inside, falling linearly to 0 over `width` px at the patch's edges."""
    h, w = shape
    y = np.minimum(np.arange(h), np.arange(h)[::-1])[:, None]
    x = np.minimum(np.arange(w), np.arange(w)[::-1])[None, :]
    return np.clip((np.minimum(x, y) + 0.5) / max(width, 1.0), 0, 1).astype(np.float32)


def paste(canvas: np.ndarray, patch: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    """Blend `patch` into `canvas` at integer offset (x, y), cropped at the frame's edges."""
    h, w = canvas.shape[:2]
    ph, pw = patch.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(w, x + pw), min(h, y + ph)
    if x1 <= x0 or y1 <= y0:
        return
    a = alpha[y0 - y : y1 - y, x0 - x : x1 - x, None]
    canvas[y0:y1, x0:x1] = canvas[y0:y1, x0:x1] * (1 - a) + patch[y0 - y : y1 - y, x0 - x : x1 - x] * a


def _overlaps(a: Box, b: Box) -> bool:
    return (a.left < b.left + b.width and b.left < a.left + a.width
            and a.top < b.top + b.height and b.top < a.top + a.height)


def _place(rng, canvas, patch, number: Number, taken: list[Box]) -> Number | None:
    """Paste a number's patch where the whole number is in the frame and no other number is covered."""
    h, w = canvas.shape[:2]
    u = union_box(number.boxes)
    ph, pw = patch.shape[:2]
    room = min(u.left, u.top, pw - u.left - u.width, ph - u.top - u.height)
    alpha = feather((ph, pw), max(1.0, min(rng.uniform(0.05, 0.3) * min(ph, pw), room * 0.9)))
    for _ in range(20):
        x = int(rng.integers(math.floor(-u.left), max(math.floor(-u.left) + 1, math.floor(w - u.left - u.width))))
        y = int(rng.integers(math.floor(-u.top), max(math.floor(-u.top) + 1, math.floor(h - u.top - u.height))))
        if any(_overlaps(Box(x, y, pw, ph), expand_box(t)) for t in taken):
            continue
        paste(canvas, patch, alpha, x, y)
        return Number(number.digits, tuple(Box(b.left + x, b.top + y, b.width, b.height) for b in number.boxes))
    return None


def _perspective(rng, im: Image.Image, numbers: list[Number]) -> tuple[Image.Image, list[Number]]:
    """A slight camera tilt of the whole frame (zoomed 8% so no border shows); skipped if a number would leave it."""
    w, h = im.size
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    c = np.array([w / 2, h / 2])
    dst = c + (src - c) * 1.08 + rng.normal(0, 0.02, (4, 2)) * [w, h]
    m = _homography(src, dst)
    moved = []
    for n in numbers:
        boxes = []
        for b in n.boxes:
            q = camera.apply(m, np.array([[b.left, b.top], [b.left + b.width, b.top],
                                          [b.left + b.width, b.top + b.height], [b.left, b.top + b.height]]))
            x0, y0, x1, y1 = q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max()
            if x0 < 0 or y0 < 0 or x1 > w or y1 > h:
                return im, numbers
            boxes.append(Box(x0, y0, x1 - x0, y1 - y0))
        moved.append(Number(n.digits, tuple(boxes)))
    return camera.warp(im, m, (w, h), (128, 128, 128)), moved


def _homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 3x3 homography mapping 4 points `src` to `dst` (direct linear solve)."""
    a, b = [], []
    for (x, y), (u, v) in zip(src, dst):
        a += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        b += [u, v]
    return np.append(np.linalg.solve(np.array(a), np.array(b)), 1.0).reshape(3, 3)


def compose(rng: np.random.Generator, spec: SceneSpec) -> Scene:
    """Draw one frame from a seeded generator."""
    w, h = spec.size
    if spec.photos is not None:
        canvas = photo_background(rng, spec.photos, w, h)
    elif spec.clutter > 0 and rng.random() < spec.clutter:  # no draw at 0: older folders stay byte-identical
        canvas = np.asarray(clutter.background(rng, w, h), np.float32).copy()
    else:
        canvas = np.asarray(facade.facade(rng, w, h), np.float32).copy()
    lo, hi = np.log(spec.height_range[0] * h), np.log(spec.height_range[1] * h)
    for _ in range(int(rng.choice([0, 1, 1, 2]))):
        patch = decoy(rng, float(np.exp(rng.uniform(lo, hi))))
        paste(canvas, patch, feather(patch.shape[:2], rng.uniform(0.05, 0.3) * min(patch.shape[:2])),
               int(rng.integers(-patch.shape[1] // 2, w)), int(rng.integers(-patch.shape[0] // 2, h)))
    u = rng.random()
    count = 0 if u < spec.empty_share else 2 if u < spec.empty_share + spec.two_share else 1
    numbers: list[Number] = []
    for _ in range(count):
        # Two numbers in one frame are smaller: both must fit without touching.
        height = float(np.exp(between(rng, lo, min(hi, np.log(0.25 * h)) if count == 2 else hi)))
        if spec.real is not None and rng.random() < spec.real_share:
            patch, number = real_number(rng, spec.real, height)
        else:
            patch, number = _synthetic_number(rng, height, spec.plates)
        placed = _place(rng, canvas, patch, number, [union_box(n.boxes) for n in numbers])
        if placed is not None:
            numbers.append(placed)
    im = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
    if rng.random() < 0.4:
        im, numbers = _perspective(rng, im, numbers)
    smallest = min((union_box(n.boxes).height for n in numbers), default=0.1 * h)
    im = camera.degrade(rng, im, float(smallest))  # a float: Pillow compares the radius with a tuple
    return Scene(im, tuple(Number(n.digits, tuple(_clip(b, w, h) for b in n.boxes)) for n in numbers))


def _clip(b: Box, w: int, h: int) -> Box:
    x0, y0 = min(max(b.left, 0.0), w - 1.0), min(max(b.top, 0.0), h - 1.0)
    x1, y1 = min(max(b.left + b.width, x0 + 1.0), float(w)), min(max(b.top + b.height, y0 + 1.0), float(h))
    return Box(x0, y0, x1 - x0, y1 - y0)
