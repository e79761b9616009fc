"""Foreground/background colour pairs measured on real SVHN pictures, and sampling around them.

colour_pairs.json holds one (digit colour, background colour) pair per picture of recon/train (the
train split only; test pictures are for evaluation). Regenerate it with
    python -m train.synth.colours ../shared/data/svhn/recon/train
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

from edge_app.annotations import read_annotations
from edge_app.contract import digit_region, load_image

PAIRS_FILE = Path(__file__).with_name("colour_pairs.json")


def measure_pair(image: np.ndarray, boxes) -> tuple[np.ndarray, np.ndarray]:
    """(digit colour, background colour) of one picture: ring median vs the inked pixels in the boxes."""
    h, w = image.shape[:2]
    inside = np.zeros((h, w), bool)
    for b in boxes:
        inside[max(0, int(b.top)) : int(b.top + b.height), max(0, int(b.left)) : int(b.left + b.width)] = True
    r = digit_region(boxes)
    ring = np.zeros((h, w), bool)
    ring[max(0, int(r.top)) : int(r.top + r.height), max(0, int(r.left)) : int(r.left + r.width)] = True
    ring &= ~inside
    pixels = image.reshape(-1, 3).astype(np.float32)
    ink = pixels[inside.ravel()]
    bg = np.median(pixels[ring.ravel()] if ring.any() else ink, axis=0)
    # Strokes are the box pixels farthest from the background; the top quarter avoids the
    # background showing between and around the strokes.
    dist = np.linalg.norm(ink - bg, axis=1)
    fg = ink[dist >= np.percentile(dist, 75)].mean(axis=0)
    return fg, bg


def measure_folder(folder) -> np.ndarray:
    """All pairs of a labelled folder, shape (N, 2, 3) uint8 (fg, bg)."""
    pairs = []
    for a in read_annotations(folder):
        fg, bg = measure_pair(load_image(Path(folder) / a.name), a.boxes)
        pairs.append([fg, bg])
    return np.clip(np.rint(pairs), 0, 255).astype(np.uint8)


@lru_cache(maxsize=1)
def pairs() -> np.ndarray:
    """The stored real pairs, (N, 2, 3) float32 in 0..255."""
    data = json.loads(PAIRS_FILE.read_text())
    return np.asarray(data["pairs"], np.float32)


def luminance(rgb: np.ndarray) -> float:
    """Rec. 601 luma of an RGB colour (0..255)."""
    return float(np.dot(rgb, [0.299, 0.587, 0.114]))


def sample_pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A (digit, background) colour pair: a real pair, jittered, with a floor on its contrast."""
    fg, bg = pairs()[rng.integers(len(pairs()))].copy()
    if rng.random() < 0.1:
        # A few vivid plates (white on blue, green, red) that the 498 measured pictures undersample.
        bg = rng.uniform(0, 255, 3) * np.array(rng.permutation([1.0, 0.4, 0.2]))
        fg = np.full(3, rng.uniform(200, 255)) if luminance(bg) < 110 else np.full(3, rng.uniform(0, 60))
    fg = fg + rng.normal(0, 10, 3)
    bg = bg + rng.normal(0, 10, 3)
    # Measured pairs include blur; rendering blurs again, so keep at least a readable difference.
    gap = luminance(fg) - luminance(bg)
    floor = rng.uniform(35, 70)
    if abs(gap) < floor:
        push = (floor - abs(gap)) * (1 if gap >= 0 else -1)
        if not 0 <= luminance(fg) + push <= 255:
            push = -push
        fg = fg + push
    return np.clip(fg, 0, 255), np.clip(bg, 0, 255)


def main(argv: list[str]) -> int:
    """Measure a folder and write colour_pairs.json."""
    if len(argv) != 1:
        print("usage: python -m train.synth.colours RECON_TRAIN_DIR", file=sys.stderr)
        return 2
    table = measure_folder(argv[0])
    doc = {
        "source": "SVHN recon/train (train split); per picture: fg = mean of the box pixels farthest from bg, "
        "bg = median of the ring between the boxes and their 30%-expanded union",
        "pairs": table.tolist(),
    }
    PAIRS_FILE.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"{PAIRS_FILE}: {len(table)} pairs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
