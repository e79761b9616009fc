"""Why big digits are read worse: box heights, input sharpness and accuracy by height, real training
pictures against synthetic ones, and synthetic pictures rebuilt the way SVHN's recon/ folders were.

    python scripts/height_diagnosis.py --model models/house_numbers.tflite --count 1500

Reads recon/train and the generator only (never recon/test).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge_app.annotations import read_annotations  # noqa: E402
from edge_app.contract import center_crop, crop_region, digit_region, load_image  # noqa: E402
from edge_app.interpreter import HouseNumberModel  # noqa: E402
from train.breakdown import HEIGHT_BINS  # noqa: E402
from train.synth.render import render  # noqa: E402


def sharpness(x: np.ndarray) -> float:
    """Mean absolute Laplacian of the grey input over its contrast: detail, whatever the colours."""
    g = x.astype(np.float32).mean(axis=2)
    lap = np.abs(4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:])
    return float(lap.mean() / (g.std() + 1e-3))


def rebuilt(image: np.ndarray, boxes) -> np.ndarray:
    """SVHN's recon/ construction: each digit's square window (side max(w, h)) through 32x32 bicubic and back."""
    out, (h, w) = image.copy(), image.shape[:2]
    for b in boxes:
        side = max(1, int(round(max(b.width, b.height))))
        x0 = int(round(b.left + b.width / 2 - side / 2))
        y0 = int(round(b.top + b.height / 2 - side / 2))
        rows, cols = np.clip(np.arange(y0, y0 + side), 0, h - 1), np.clip(np.arange(x0, x0 + side), 0, w - 1)
        back = np.asarray(Image.fromarray(image[rows[:, None], cols[None, :]]).resize((32, 32), Image.BICUBIC)
                          .resize((side, side), Image.BICUBIC))
        ys, xs = slice(max(y0, 0), min(y0 + side, h)), slice(max(x0, 0), min(x0 + side, w))
        out[ys, xs] = back[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0]
    return out


def report(name: str, model, items) -> None:
    rows = []
    for image, boxes, digits in items:
        x = center_crop(crop_region(image, digit_region(boxes)))
        rows.append((float(np.median([b.height for b in boxes])), sharpness(x),
                     model.read(x).text == "".join(map(str, digits))))
    h, s, ok = (np.array(c) for c in zip(*rows))
    print(f"{name}: {len(rows)} pictures, heights 5/25/50/75/95 = {np.percentile(h, [5, 25, 50, 75, 95]).round(1)}, "
          f"accuracy {ok.mean():.3f}")
    for lo, hi in zip(HEIGHT_BINS[:-1], HEIGHT_BINS[1:]):
        m = (h >= lo) & (h < hi)
        if m.any():
            print(f"  {lo}-{hi} px: {m.sum()} ({m.mean():.1%}), sharpness {s[m].mean():.3f}, "
                  f"accuracy {ok[m].mean():.3f}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=ROOT / "models" / "house_numbers.tflite", help="reader .tflite")
    p.add_argument("--real", type=Path, default=ROOT.parent / "shared" / "data" / "svhn" / "recon" / "train",
                   help="labelled real pictures (never recon/test)")
    p.add_argument("--count", type=int, default=1500, help="synthetic pictures")
    p.add_argument("--seed", type=int, default=999, help="the generator's seed")
    args = p.parse_args(argv)
    model = HouseNumberModel(args.model, threads=1)
    real = [(load_image(args.real / a.name), a.boxes, a.digits) for a in read_annotations(args.real)]
    report(f"{args.real} (the shipped reader trained on most of these)", model, real)
    synth = []
    for i in range(args.count):
        picture = render(np.random.default_rng([args.seed, i]))
        synth.append((np.asarray(picture.image.convert("RGB")), picture.boxes, picture.digits))
    report("synthetic", model, synth)
    report("synthetic, rebuilt as recon/", model, [(rebuilt(im, b), b, d) for im, b, d in synth])
    return 0


if __name__ == "__main__":
    sys.exit(main())
