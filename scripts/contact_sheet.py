"""Draw docs/synthetic_vs_real.png: random synthetic pictures beside random real SVHN train pictures.

The top half shows whole pictures (digit boxes in red), the bottom half the 54x54 model inputs that
edge_app.contract cuts from them. Picks are random (seeded), not chosen. Example:
    python scripts/contact_sheet.py --svhn ../shared/data/svhn --out docs/synthetic_vs_real.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from edge_app.annotations import read_annotations  # noqa: E402
from edge_app.atomic import atomic_path  # noqa: E402
from edge_app.contract import digit_region, load_image, model_input  # noqa: E402
from train.synth import fonts  # noqa: E402
from train.synth.generate import Job, draw  # noqa: E402

GAP = 4  # px between tiles
SIDE_GAP = 24  # px between the synthetic and the real half
HEADER = 30


def tile(image: np.ndarray, boxes, size: int, draw_boxes: bool) -> Image.Image:
    """Letterbox a picture into size x size on grey, boxes drawn after scaling so lines stay thin."""
    h, w = image.shape[:2]
    f = size / max(h, w)
    im = Image.fromarray(image).resize((max(1, round(w * f)), max(1, round(h * f))), Image.BILINEAR)
    out = Image.new("RGB", (size, size), (40, 40, 40))
    ox, oy = (size - im.width) // 2, (size - im.height) // 2
    out.paste(im, (ox, oy))
    if draw_boxes:
        d = ImageDraw.Draw(out)
        for b in boxes:
            d.rectangle(
                [ox + b.left * f, oy + b.top * f, ox + (b.left + b.width) * f, oy + (b.top + b.height) * f],
                outline=(255, 40, 40),
            )
    return out


def crop54(image: np.ndarray, boxes, size: int) -> Image.Image:
    """The centre 54x54 model input, enlarged with nearest neighbour so its pixels stay visible."""
    return Image.fromarray(model_input(image, digit_region(boxes))).resize((size, size), Image.NEAREST)


def samples(svhn: Path, n: int, seed: int, real_digits: bool):
    """n random synthetic and n random real (image, boxes) pairs."""
    rng = np.random.default_rng(seed)
    folder = svhn / "recon" / "train"  # train split only: recon/test is for evaluation
    annotations = read_annotations(folder)
    real = [annotations[i] for i in rng.choice(len(annotations), n, replace=False)]
    real = [(load_image(folder / a.name), a.boxes) for a in real]
    job = Job(Path("."), seed, svhn / "format2_train_dev" if real_digits else None)
    synth = []
    for i in rng.choice(10**6, n, replace=False):
        p = draw(job, int(i) + 1)
        synth.append((np.asarray(p.image), p.boxes))
    return synth, real


def sheet(synth, real, cols: int, size: int, draw_boxes: bool) -> Image.Image:
    """Both halves: whole pictures on top, model inputs below, synthetic left and real right."""
    rows = len(synth) // cols
    half = cols * (size + GAP)
    width = 2 * half + SIDE_GAP
    height = 2 * (HEADER + rows * (size + GAP))
    out = Image.new("RGB", (width, height), (255, 255, 255))
    d = ImageDraw.Draw(out)
    font = fonts.load(fonts.faces()[0].path, 16)
    for section, (title, make) in enumerate(
        [
            ("pictures", lambda im, b: tile(im, b, size, draw_boxes)),
            ("54x54 model input", lambda im, b: crop54(im, b, size)),
        ]
    ):
        y0 = section * (HEADER + rows * (size + GAP))
        for side, (label, items) in enumerate([("synthetic", synth), ("real (recon/train)", real)]):
            x0 = side * (half + SIDE_GAP)
            d.text((x0 + 4, y0 + 6), f"{label}: {title}", font=font, fill=(0, 0, 0))
            for k, (im, boxes) in enumerate(items):
                out.paste(make(im, boxes), (x0 + (k % cols) * (size + GAP), y0 + HEADER + (k // cols) * (size + GAP)))
    return out


def main(argv: list[str] | None = None) -> int:
    """Draw and save the contact sheet."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument(
        "--svhn", type=Path, default=ROOT.parent / "shared" / "data" / "svhn", help="shared SVHN data folder"
    )
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "synthetic_vs_real.png", help="PNG to write")
    p.add_argument("--cols", type=int, default=6, help="tiles per row on each side")
    p.add_argument("--rows", type=int, default=5, help="rows per section")
    p.add_argument("--size", type=int, default=96, help="tile size in px")
    p.add_argument("--seed", type=int, default=0, help="which random picks")
    p.add_argument("--boxes", action=argparse.BooleanOptionalAction, default=True, help="draw digit boxes")
    p.add_argument("--real-digits", action="store_true", help="let the generator compose some numbers from real crops")
    args = p.parse_args(argv)
    synth, real = samples(args.svhn, args.cols * args.rows, args.seed, args.real_digits)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # 256 colours keep the committed PNG near a third of the size; the tiles still read the same.
    with atomic_path(args.out) as tmp:  # never a half-written sheet under the final name
        sheet(synth, real, args.cols, args.size, args.boxes).quantize(256).save(tmp, format="PNG", optimize=True)
    print(f"{args.out}: {len(synth)} synthetic and {len(real)} real pictures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
