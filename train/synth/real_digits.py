"""Numbers composed from real SVHN digit crops (format 2, train split) set side by side.

A format-2 crop is the square window of side max(w, h) centred on one digit's box, resized to 32x32,
so the box inside the crop follows from the box's w and h in the format-1 train annotations.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from edge_app.annotations import csv_labels, read_annotations
from edge_app.contract import Box, ContractError, svhn_digit

from . import camera, stats
from .render import Picture

CROP = 32  # format-2 crop side
TRAIN_CSV = Path("format1_annotations") / "train_digitStruct.csv"


class Crop(NamedTuple):
    """One real digit: the 32x32 crop and the digit's box (x0, y0, x1, y1) in crop pixels."""

    image: np.ndarray
    box: tuple[float, float, float, float]


def _train_boxes(svhn: Path, wanted: set[str]) -> dict[tuple[str, int], tuple[int, float, float]]:
    """(image name, digit index) -> (digit 0..9, box width, box height) from the train annotations."""
    path = svhn / TRAIN_CSV
    if not path.is_file():
        raise ContractError(f"{path}: missing; real-digit crops need the train annotations for their box sizes")
    return {(a.name, i): (d, b.width, b.height) for a in csv_labels(path).annotations if a.name in wanted
            for i, (d, b) in enumerate(zip(a.digits, a.boxes))}


def crop_labels(folder: Path) -> list[dict[str, str]]:
    """The rows of a format2_train_dev-like folder's labels.csv (file, label, digit, format1_image, digit_index)."""
    with open(Path(folder) / "labels.csv", newline="") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=2)
def load_crops(folder: Path, held_out: frozenset[str] = frozenset()) -> dict[int, list[Crop]]:
    """Crops of a format2_train_dev-like folder by digit 0..9, less those cut from the `held_out` pictures
    (format-1 names such as '7.png'); loaded once per process."""
    folder = Path(folder)
    try:
        rows = crop_labels(folder)
        boxes = _train_boxes(folder.parent, {r["format1_image"] for r in rows})
    except (OSError, KeyError, ValueError) as err:
        raise ContractError(f"{folder}: cannot read real digit crops ({err})") from None
    by_digit: dict[int, list[Crop]] = {d: [] for d in range(10)}
    mismatched = 0
    for r in rows:
        if r["format1_image"] in held_out:
            continue
        key = (r["format1_image"], int(r["digit_index"]))
        if key not in boxes or boxes[key][0] != svhn_digit(int(r["label"])):
            mismatched += 1  # a crop whose label disagrees with the train annotation is not from the train split
            continue
        _, w, h = boxes[key]
        s = CROP / max(w, h)
        bw, bh = w * s, h * s
        image = np.asarray(Image.open(folder / "images" / r["file"]).convert("RGB"))
        by_digit[svhn_digit(int(r["label"]))].append(Crop(image, (16 - bw / 2, 16 - bh / 2, 16 + bw / 2, 16 + bh / 2)))
    if mismatched > 0.02 * max(1, len(rows)) or not all(by_digit.values()):
        raise ContractError(
            f"{folder}: {mismatched} of {len(rows)} crops do not match the train annotations; "
            "--real-digits takes train-split crops only (test crops are for evaluation)"
        )
    return by_digit


def held_out_names(svhn: Path, folders) -> frozenset[str]:
    """The names of the pictures in `folders` (labelled SVHN train pictures, such as a reader's validation
    pictures of recon/train), checked against the train annotations so that another split's '7.png' is refused."""
    pictures = [a for folder in folders for a in read_annotations(folder)]
    known = _train_boxes(Path(svhn), {a.name for a in pictures})
    wrong = [a.name for a in pictures
             if [known.get((a.name, i), (None,))[0] for i in range(len(a.digits))] != list(a.digits)]
    if wrong:
        where = ", ".join(map(str, folders))
        raise ContractError(f"{where}: {len(wrong)} of {len(pictures)} pictures (e.g. {wrong[0]}) are not the SVHN "
                            "train pictures of that name; --hold-out takes train pictures, as in recon/train")
    return frozenset(a.name for a in pictures)


def compose(rng: np.random.Generator, folder: Path, held_out: frozenset[str] = frozenset()) -> Picture:
    """A number made of real crops: each scaled to a common box height, seams split between box centres."""
    crops = load_crops(Path(folder), held_out)
    digits = stats.sample_digits(rng)
    hc = 32.0  # common box height on the canvas
    placed = []  # (crop, scale, crop x, crop y, box x0, box x1)
    x = 0.0
    for d in digits:
        c = crops[d][rng.integers(len(crops[d]))]
        f = min(2.5, hc / (c.box[3] - c.box[1]))
        bw = (c.box[2] - c.box[0]) * f
        placed.append((c, f, x - c.box[0] * f, -c.box[1] * f, x, x + bw))
        x += bw + hc * rng.normal(0.02, 0.05)
    ml, mr = hc * rng.uniform(0.1, 0.8, 2)
    mt, mb = hc * rng.uniform(0.1, 0.5, 2)
    w, h = int(np.ceil(x + ml + mr)), int(np.ceil(hc + mt + mb))
    ys, xs = np.arange(h) - mt, np.arange(w) - ml  # canvas pixels in box coordinates
    layers, logits = [], []
    for c, f, cx, cy, bx0, bx1 in placed:
        im = np.asarray(Image.fromarray(c.image).resize((round(CROP * f), round(CROP * f)), Image.BICUBIC), np.float32)
        # Clipped indices replicate the crop's edges where it does not reach, as recon/ does.
        # Columns stop just past the digit's box: beyond it a crop shows its real neighbours, which
        # this number's label does not name.
        pad = 0.08 * hc
        lo, hi = max(0, int(np.floor(bx0 - pad - cx))), min(im.shape[1] - 1, int(np.ceil(bx1 + pad - cx)))
        rows = np.clip(np.round(ys - cy).astype(int), 0, im.shape[0] - 1)
        cols = np.clip(np.round(xs - cx).astype(int), lo, hi)
        layers.append(im[rows[:, None], cols[None, :]])
        logits.append(-np.abs(xs - (bx0 + bx1) / 2) / 1.5)  # each column belongs to the nearest digit
    weights = np.exp(np.array(logits) - np.max(logits, axis=0))
    weights /= weights.sum(axis=0)
    canvas = sum(layer * wt[None, :, None] for layer, wt in zip(layers, weights))
    boxes = [Box(bx0 + ml, mt, bx1 - bx0, hc) for _, _, _, _, bx0, bx1 in placed]
    # Shown at a real picture's digit height: shrinking loses detail, enlarging blurs, both as in SVHN.
    k = float(np.clip(stats.sample_box_height(rng), 12, 48)) / hc
    size = (max(8, round(w * k)), max(8, round(h * k)))
    im = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8)).resize(size, Image.BILINEAR)
    if rng.random() < 0.5:
        im = camera.degrade(rng, im, hc * k)
    boxes = [Box(b.left * k, b.top * k, b.width * k, b.height * k) for b in boxes]
    return Picture(im, tuple(digits), tuple(boxes))
