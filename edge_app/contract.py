"""The input contract: how a picture and its digit boxes become model input, and how labels are coded.

Every stage (training, calibration, export, the edge app) goes through this module, so what the
model sees on the device is exactly what it saw in training. numpy and Pillow only.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageOps

REGION_SIZE = 64  # the union box is resized to 64x64 ...
INPUT_SIZE = 54  # ... and the model sees a 54x54 crop of it
EXPAND = 0.30  # union box grown by 30% in width and in height (15% each side), as in the paper
MAX_DIGITS = 5
LENGTH_CLASSES = MAX_DIGITS + 2  # 0..5 digits, and 6 = "more than 5"
DIGIT_CLASSES = 11  # 0..9, and 10 = no digit
NO_DIGIT = 10
HEADS = ("length",) + tuple(f"digit{i}" for i in range(1, MAX_DIGITS + 1))
MAX_REGION_SCALE = 2.0  # a region may reach past the picture, but be at most 2x its width and height


class ContractError(ValueError):
    """A picture, box or label that the contract cannot turn into model input."""


class Box(NamedTuple):
    """A rectangle in picture pixels, SVHN style (left, top, width, height)."""

    left: float
    top: float
    width: float
    height: float


def load_image(path) -> np.ndarray:
    """Read a picture file as HxWx3 uint8 RGB; raise ContractError if it is not a readable picture."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 89M and 179M pixels; a picture that size is a hostile file, not a camera's.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                im.load()
                return to_rgb(ImageOps.exif_transpose(im))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ContractError(f"{path}: picture too large to read ({err})") from None
    except Exception as err:  # noqa: BLE001 - Pillow's decoders raise many types on hostile files; all mean "unreadable"
        raise ContractError(f"{path}: not a readable picture ({type(err).__name__}: {err})"[:300]) from None


def to_rgb(im: Image.Image) -> np.ndarray:
    """Any Pillow mode -> HxWx3 uint8 RGB; 16-bit and 32-bit grey are scaled to 8 bits, not clipped."""
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        grey = np.asarray(im, dtype=np.float64)
        if im.mode == "F" and grey.size and np.nanmax(grey) <= 1.0:
            grey = grey * 255.0  # float pictures in 0..1
        elif im.mode != "F" and (im.mode.startswith("I;16") or (grey.size and grey.max() > 255)):
            grey = grey / 257.0  # 0..65535 -> 0..255
        grey = np.clip(np.nan_to_num(np.round(grey)), 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    return np.asarray(im.convert("RGB"))


def union_box(boxes: Sequence[Box]) -> Box:
    """The smallest rectangle that holds all digit boxes."""
    if not boxes:
        raise ContractError("no digit boxes to take the union of")
    x0 = min(b.left for b in boxes)
    y0 = min(b.top for b in boxes)
    x1 = max(b.left + b.width for b in boxes)
    y1 = max(b.top + b.height for b in boxes)
    return Box(x0, y0, x1 - x0, y1 - y0)


def expand_box(box: Box, factor: float = EXPAND) -> Box:
    """Grow a box about its centre by `factor` of its width and of its height."""
    dw, dh = box.width * factor, box.height * factor
    return Box(box.left - dw / 2, box.top - dh / 2, box.width + dw, box.height + dh)


def digit_region(boxes: Sequence[Box]) -> Box:
    """The region the model reads for these digit boxes: their union, expanded by 30%."""
    return expand_box(union_box(boxes))


def check_region(box: Box, width: int, height: int) -> None:
    """Refuse a region that is not finite or is over twice the picture's size (before anything is allocated)."""
    if not all(math.isfinite(v) for v in (*box, box.left + box.width, box.top + box.height)):
        raise ContractError(f"region {tuple(box)} is not finite")
    if box.width > MAX_REGION_SCALE * width or box.height > MAX_REGION_SCALE * height:
        raise ContractError(f"region {tuple(round(v, 1) for v in box)} is more than {MAX_REGION_SCALE:g}x "
                            f"the {width}x{height} picture; draw it inside the picture")


def crop_region(image: np.ndarray, box: Box, size: int = REGION_SIZE) -> np.ndarray:
    """Cut `box` out of an HxWx3 picture, replicating edge pixels where it runs off, resized to size x size."""
    h, w = image.shape[:2]
    check_region(box, w, h)
    x0, y0 = int(round(box.left)), int(round(box.top))
    x1, y1 = int(round(box.left + box.width)), int(round(box.top + box.height))
    if x1 <= x0 or y1 <= y0:
        raise ContractError(f"empty region {tuple(round(v, 1) for v in box)}")
    if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
        raise ContractError(f"region {tuple(round(v, 1) for v in box)} lies outside the {w}x{h} picture")
    # Clipped index arrays are edge replication without padding the whole picture.
    rows = np.clip(np.arange(y0, y1), 0, h - 1)
    cols = np.clip(np.arange(x0, x1), 0, w - 1)
    if x0 >= 0 and y0 >= 0 and x1 <= w and y1 <= h:
        patch = image[y0:y1, x0:x1]  # the common case: a view, no copy
    else:
        patch = image[rows[:, None], cols[None, :]]
    resized = Image.fromarray(np.ascontiguousarray(patch)).resize((size, size), Image.BILINEAR)
    return np.asarray(resized)


def crop_at(region: np.ndarray, top: int, left: int, size: int = INPUT_SIZE) -> np.ndarray:
    """The size x size window of a region whose top-left corner is (top, left)."""
    return region[top : top + size, left : left + size]


def center_crop(region: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """The centre size x size crop: what evaluation, calibration and the edge app feed the model."""
    off = (region.shape[0] - size) // 2
    return crop_at(region, off, off, size)


# Training crops: top and left each uniform over 0..CROP_RANGE (train/augment.py draws them in TensorFlow;
# tests/test_contract.py ties that to random_crop / crop_at).
CROP_RANGE = REGION_SIZE - INPUT_SIZE


def random_crop(region: np.ndarray, rng: np.random.Generator, size: int = INPUT_SIZE) -> np.ndarray:
    """A random size x size crop for training, drawn from a seeded generator."""
    y, x = rng.integers(0, region.shape[0] - size + 1, size=2)
    return crop_at(region, int(y), int(x), size)


# Test-time views of a 64x64 region, (top, left, side): the side x side window, resized to INPUT_SIZE when
# it is not. The first is the centre crop; then a 10% wider view, 3-pixel shifts left, right, up and
# down, and a 10% closer view: the same moves the training crops and scale augmentation make.
TTA_VIEWS = ((5, 5, 54), (2, 2, 60), (5, 2, 54), (5, 8, 54), (2, 5, 54), (8, 5, 54), (8, 8, 48))


def tta_views(region: np.ndarray, n: int) -> np.ndarray:
    """The first n TTA_VIEWS of a 64x64 region as (n, 54, 54, 3) uint8; n=1 is the centre crop alone."""
    if not 1 <= n <= len(TTA_VIEWS):
        raise ContractError(f"test-time views: n must be 1..{len(TTA_VIEWS)}, not {n}")
    views = []
    for top, left, side in TTA_VIEWS[:n]:
        window = crop_at(region, top, left, side)
        if side != INPUT_SIZE:
            window = np.asarray(Image.fromarray(np.ascontiguousarray(window)).resize((INPUT_SIZE, INPUT_SIZE),
                                                                                      Image.BILINEAR))
        views.append(window)
    return np.stack(views)


def model_input(image: np.ndarray, region: Box) -> np.ndarray:
    """Picture + region -> the 54x54x3 uint8 model input (region crop, 64x64, centre crop)."""
    return center_crop(crop_region(image, region))


def svhn_digit(label: int) -> int:
    """SVHN label 1..10 -> digit 0..9 (SVHN writes the digit 0 as 10)."""
    label = int(label)
    if not 1 <= label <= 10:
        raise ContractError(f"SVHN digit label {label} is not in 1..10")
    return label % 10


def encode_label(digits: Sequence[int]) -> np.ndarray:
    """Digits 0..9 of a number -> the six targets [length, d1..d5] (length 6 = more than 5, 10 = no digit)."""
    target = np.full(1 + MAX_DIGITS, NO_DIGIT, dtype=np.int64)
    target[0] = min(len(digits), LENGTH_CLASSES - 1)
    for i, d in enumerate(digits[:MAX_DIGITS]):
        if not 0 <= d <= 9:
            raise ContractError(f"digit {d} is not in 0..9")
        target[1 + i] = d
    return target


def label_text(target: np.ndarray) -> str:
    """The six targets -> the number as a string ('' for length 0; at most 5 digits)."""
    n = min(int(target[0]), MAX_DIGITS)
    return "".join(str(int(d)) for d in target[1 : 1 + n])


# The detector sees the whole frame downscaled to this size (4:3 like 640x480 and picamera2's lores
# stream), and marks number centres on a grid of stride DETECTOR_STRIDE: 24x18 cells.
DETECTOR_WIDTH, DETECTOR_HEIGHT = 192, 144
DETECTOR_STRIDE = 8


def detector_input(frame: np.ndarray) -> np.ndarray:
    """Whole HxWx3 uint8 RGB frame -> the detector's 144x192x3 uint8 input (box-reduce, then bilinear).

    Boxes are predicted as fractions of the input's width and height, so they map back to the frame
    by its own width and height whatever its aspect ratio.
    """
    h, w = frame.shape[:2]
    if w < DETECTOR_WIDTH or h < DETECTOR_HEIGHT:
        raise ContractError(f"frame {w}x{h} is smaller than the detector input {DETECTOR_WIDTH}x{DETECTOR_HEIGHT}")
    return shrink(frame, (DETECTOR_WIDTH, DETECTOR_HEIGHT))


def shrink(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The detector's one downscale of a frame to (width, height); a frame already that size as it is."""
    # reducing_gap=1: average whole pixel blocks first (640x480 -> 213x160), then bilinear; 2x faster
    # than bilinear alone (1.3 against 2.6 ms here) and still antialiased.
    if (frame.shape[1], frame.shape[0]) == tuple(size):
        return frame
    image = Image.fromarray(np.ascontiguousarray(frame))
    return np.asarray(image.resize(size, Image.BILINEAR, reducing_gap=1.0))


def detector_window(frame: np.ndarray, window: Box) -> np.ndarray:
    """The detector's 144x192x3 input for a window in the detector's aspect that runs off the frame (a look from
    further away): the frame shrunk to the window's scale (as detector_input shrinks), edge pixels repeated past it."""
    h, w = frame.shape[:2]
    scale = DETECTOR_WIDTH / window.width
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    small = shrink(frame, (sw, sh))
    # Clipped index arrays repeat the edge, as crop_region does for a reader's region that runs off the picture.
    rows = np.clip(np.arange(DETECTOR_HEIGHT) + round(window.top * scale), 0, sh - 1)
    cols = np.clip(np.arange(DETECTOR_WIDTH) + round(window.left * scale), 0, sw - 1)
    return small[rows[:, None], cols[None, :]]
