"""Camera-like clips of house fronts, for developing and scoring live reading (edge_app.live).

A clip is a world picture (a drawn facade or clutter, decoy words, 0-2 real house numbers pasted in, the
camera's lighting and blur baked in once) seen through a moving view: the camera's path makes the kind.
Each frame is that view resized to the frame size, with its own sensor noise and the kind's effects
(a passing pole, falling light, rain, shake blur). Every frame records where each number is and whether
all of it is in view, so a scorer can time a report from the moment the number is whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw

from edge_app.contract import Box, union_box

from . import camera, clutter, facade
from .scenes import decoy, feather, paste, real_number

KINDS = ("steady", "passby", "enter_leave", "approach", "occluder", "dusk", "shake", "rain", "two", "empty",
         "clutter")
EMPTY_KINDS = ("empty", "clutter")  # no number: text, signs and clutter only


@dataclass(frozen=True)
class ClipSpec:
    """What the clips of a folder are made of."""

    numbers: Path  # labelled real pictures (recon/test for the dev clips, held-out recon/train for tuning)
    size: tuple[int, int] = (640, 480)
    fps: float = 15.0
    seconds: float = 4.0

    @property
    def frames(self) -> int:
        return round(self.fps * self.seconds)


class Seen(NamedTuple):
    """A number in one frame: which of the clip's numbers, its box in frame pixels (cut to the frame), and
    whether all of it is in view (inside the frame and not behind the occluder)."""

    number: int
    box: Box
    whole: bool


class Clip(NamedTuple):
    kind: str
    numbers: tuple[str, ...]
    frames: list[np.ndarray]  # (H, W, 3) uint8 RGB
    seen: list[list[Seen]]  # per frame


class View(NamedTuple):
    """The camera's window on the world: left, top and width in world pixels (height from the frame's aspect)."""

    x: float
    y: float
    w: float


def _path(rng, kind: str, n: int, fw: int, fh: int) -> tuple[tuple[int, int], list[View], float]:
    """(world size, the view of each frame, number height as a share of the frame) for a kind; every view
    inside the world."""
    (ww, wh), views, height = _moves(rng, kind, n, fw, fh)
    views = [View(min(max(v.x, 0.0), ww - v.w), min(max(v.y, 0.0), wh - v.w * fh / fw), v.w) for v in views]
    return (ww, wh), views, height


def _moves(rng, kind: str, n: int, fw: int, fh: int) -> tuple[tuple[int, int], list[View], float]:
    t = np.linspace(0.0, 1.0, n)
    height = math.exp(rng.uniform(math.log(0.08), math.log(0.3)))
    if kind == "passby":  # the number slides through: 8-16 px a frame
        speed = rng.uniform(8, 16)
        ww = int(fw + speed * (n - 1)) + 2
        return (ww, fh + 2), [View(speed * i, 1, fw) for i in range(n)], min(height, 0.25)
    if kind == "enter_leave":  # fast in from outside the frame, still for half the clip, fast out
        q = n // 4
        speed = rng.uniform(0.6, 0.8) * fw / q
        x, xs = 0.0, []
        for i in range(n):
            xs.append(x)
            x += speed if i < q or i >= n - q else 0.0
        return (int(fw + x) + 2, fh + 2), [View(v, 1, fw) for v in xs], min(height, 0.25)
    if kind == "approach":  # zoom in: the number grows fourfold
        ww, wh = int(fw * 3.2), int(fh * 3.2)
        cx, cy = ww * rng.uniform(0.45, 0.55), wh * rng.uniform(0.45, 0.55)
        widths = fw * 3.2 * (0.25 ** t) * 0.999
        return (ww, wh), [View(cx - w / 2, cy - w * fh / fw / 2, w) for w in widths], rng.uniform(0.05, 0.07) * 3.2
    if kind == "shake":  # hand-held: a wobble of 6-15 px around a slow drift
        amp = rng.uniform(6, 15)
        f1, f2 = rng.uniform(1.5, 4.0, 2)
        ph = rng.uniform(0, 2 * np.pi, 2)
        dx = amp * np.sin(2 * np.pi * f1 * t * 4 + ph[0]) + rng.normal(0, amp / 4, n)
        dy = amp * np.sin(2 * np.pi * f2 * t * 4 + ph[1]) + rng.normal(0, amp / 4, n)
        m = 40
        return (fw + 2 * m, fh + 2 * m), [View(m + a, m + b, fw) for a, b in zip(dx, dy)], height
    drift = rng.uniform(-1.5, 1.5, 2) if kind in ("two", "empty", "clutter") else rng.uniform(-0.3, 0.3, 2)
    m = 40
    return (fw + 2 * m, fh + 2 * m), [View(m + drift[0] * i / 2, m + drift[1] * i / 2, fw) for i in range(n)], height


def _anchor(rng, kind: str, views: list[View], fw: int, fh: int) -> tuple[float, float]:
    """Where in the world the number goes (its centre): in view at the clip's middle for a moving camera, and
    in view all along for a still one."""
    mid = views[len(views) // 2]
    if kind in ("passby", "approach", "enter_leave"):
        return mid.x + mid.w * rng.uniform(0.4, 0.6), mid.y + mid.w * fh / fw * rng.uniform(0.35, 0.65)
    x0, x1 = max(v.x for v in views), min(v.x + v.w for v in views)  # in view in every frame
    y0, y1 = max(v.y for v in views), min(v.y + v.w * fh / fw for v in views)
    return (rng.uniform(x0 + 0.3 * (x1 - x0), x1 - 0.3 * (x1 - x0)),
            rng.uniform(y0 + 0.3 * (y1 - y0), y1 - 0.3 * (y1 - y0)))


def _world(rng, spec: ClipSpec, kind: str) -> tuple[Image.Image, list[View], list[tuple[str, Box]]]:
    """The world picture, the camera's views and the numbers in it (text, box in world pixels)."""
    fw, fh = spec.size
    (ww, wh), views, height = _path(rng, kind, spec.frames, fw, fh)
    base = clutter.background(rng, ww, wh) if kind == "clutter" else facade.facade(rng, ww, wh)
    canvas = np.asarray(base, np.float32).copy()
    digit_px = height * fh * views[len(views) // 2].w / fw  # number height in world pixels at mid-clip
    for _ in range(int(rng.integers(1, 4)) + 2 * (kind == "clutter")):  # words and signs: not numbers
        patch = decoy(rng, digit_px * rng.uniform(0.6, 1.4))
        paste(canvas, patch, feather(patch.shape[:2], 0.1 * min(patch.shape[:2])),
              int(rng.integers(0, ww)) - patch.shape[1] // 2, int(rng.integers(0, wh)) - patch.shape[0] // 2)
    numbers: list[tuple[str, Box]] = []
    count = 0 if kind in EMPTY_KINDS else 2 if kind == "two" else 1
    for k in range(count):
        px = digit_px * (0.8 if count == 2 else 1.0)
        patch, number = real_number(rng, spec.numbers, px, max_width=0.45 * views[len(views) // 2].w)
        u = union_box(number.boxes)
        cx, cy = _anchor(rng, kind, views, fw, fh)
        if count == 2:  # side by side, a third of the view apart
            mid = views[len(views) // 2]
            cx = mid.x + mid.w * (0.3 if k == 0 else 0.7) + rng.uniform(-0.05, 0.05) * mid.w
        x, y = int(cx - u.left - u.width / 2), int(cy - u.top - u.height / 2)
        room = min(u.left, u.top, patch.shape[1] - u.left - u.width, patch.shape[0] - u.top - u.height)
        paste(canvas, patch, feather(patch.shape[:2], max(1.0, min(0.2 * min(patch.shape[:2]), room * 0.9))), x, y)
        numbers.append(("".join(map(str, number.digits)), Box(u.left + x, u.top + y, u.width, u.height)))
    im = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
    im = camera.degrade(rng, im, float(digit_px))  # lighting, blur, JPEG: the camera's, once for the clip
    return im, views, numbers


def _occluder(rng, spec: ClipSpec, numbers: list[tuple[str, Box]], views: list[View]):
    """A pole or passer-by crossing the first number: (x of its left edge in each frame, width, colour)."""
    fw, fh = spec.size
    n = spec.frames
    v = views[n // 2]
    box = numbers[0][1]
    bx = (box.left + box.width / 2 - v.x) * fw / v.w  # the number's centre in the frame
    width = rng.uniform(0.5, 0.9) * box.width * fw / v.w
    speed = rng.uniform(10, 20) * rng.choice([-1, 1])
    at = rng.uniform(0.3, 0.5) * n  # the frame where it covers the number's centre
    xs = [bx - width / 2 + speed * (i - at) for i in range(n)]
    return xs, width, tuple(int(c) for c in rng.integers(20, 90, 3))


def _frame(world: Image.Image, view: View, size: tuple[int, int], blur_from: View | None = None) -> np.ndarray:
    fw, fh = size
    vh = view.w * fh / fw
    box = (view.x, view.y, view.x + view.w, view.y + vh)
    if blur_from is None:
        return np.asarray(world.resize(size, Image.BILINEAR, box=box), np.float32)
    # motion blur: the exposure sees the view move from the last frame's place to this one's
    steps = [View(*(a + (b - a) * s for a, b in zip(blur_from, view))) for s in (0.0, 0.5, 1.0)]
    return np.mean([_frame(world, s, size) for s in steps], axis=0)


def _rain(rng, image: Image.Image, count: int) -> None:
    draw = ImageDraw.Draw(image, "RGBA")
    w, h = image.size
    slant = rng.uniform(-0.3, 0.3)
    for _ in range(count):
        x, y, length = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(8, 24)
        draw.line([(x, y), (x + slant * length, y + length)], fill=(210, 210, 220, int(rng.integers(40, 110))))


def draw_clip(rng: np.random.Generator, spec: ClipSpec, kind: str) -> Clip:
    """Draw one clip of a kind from a seeded generator."""
    if kind not in KINDS:
        raise ValueError(f"unknown clip kind {kind!r}; kinds: {', '.join(KINDS)}")
    fw, fh = spec.size
    n = spec.frames
    world, views, numbers = _world(rng, spec, kind)
    occluder = _occluder(rng, spec, numbers, views) if kind == "occluder" else None
    noise = rng.uniform(1.5, 4.0)
    dark = rng.uniform(0.25, 0.4)
    low = rng.uniform(0.45, 0.65)
    frames, seen = [], []
    for i, view in enumerate(views):
        a = _frame(world, view, spec.size, views[i - 1] if kind == "shake" and i else None)
        gain, sigma = 1.0, noise
        if kind == "dusk":  # the light falls to a third; the camera's gain lifts the noise
            gain = 1.0 + (dark - 1.0) * i / (n - 1)
            sigma = noise / math.sqrt(gain)
        elif kind == "rain":
            gain, sigma = low, noise * 2.5
        a = a * gain + rng.normal(0, sigma, a.shape[:2])[..., None] + rng.normal(0, sigma / 3, a.shape)
        im = Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8))
        hidden = None
        if occluder is not None:
            xs, width, colour = occluder
            hidden = (xs[i], xs[i] + width)
            ImageDraw.Draw(im).rectangle([xs[i], 0, xs[i] + width, fh], fill=colour)
        if kind == "rain":
            _rain(rng, im, 160)
        frames.append(np.asarray(im))
        seen.append(_seen(numbers, view, spec.size, hidden))
    return Clip(kind, tuple(t for t, _ in numbers), frames, seen)


def _seen(numbers: list[tuple[str, Box]], view: View, size: tuple[int, int], hidden) -> list[Seen]:
    """Where each number is in a frame of this view, and whether all of it shows."""
    fw, fh = size
    s = fw / view.w
    out = []
    for k, (_, b) in enumerate(numbers):
        x0, y0 = (b.left - view.x) * s, (b.top - view.y) * s
        x1, y1 = x0 + b.width * s, y0 + b.height * s
        cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, fw), min(y1, fh)
        if cx1 <= cx0 or cy1 <= cy0:
            continue
        whole = (cx0, cy0, cx1, cy1) == (x0, y0, x1, y1)
        if hidden is not None and hidden[0] < x1 and x0 < hidden[1]:
            whole = False
        out.append(Seen(k, Box(cx0, cy0, cx1 - cx0, cy1 - cy0), whole))
    return out
