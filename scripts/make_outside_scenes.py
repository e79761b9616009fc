"""Build the outside check: the dev scenes' recipe on real photographs nobody trained on, not drawn house fronts.

The detector trains on drawn house fronts; the dev scenes use them too. These frames put the same real
SVHN test numbers (recon/test) on crops of photographs shipped inside scikit-image (an astronaut, a
cat, coffee, coins, bricks, grass, gravel, a motorbike, a cameraman, a clock, a printed page, a rocket),
which the issue keeps out of training and dev data for exactly this. EVALUATION ONLY:
nothing is trained, tuned or picked on them (training and calibration refuse them: their numbers come
from a test split). Needs scikit-image for the photographs (`pip install scikit-image`), or --photos DIR.

    python scripts/make_outside_scenes.py                        # -> data/outside_scenes
    python scripts/eval_scenes.py --data data/outside_scenes --no-scan --json out/eval_outside.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.make_dev_scenes import build  # noqa: E402
from train.synth.scenes import SceneSpec  # noqa: E402

SEED = 20131313  # fixed, and not the dev scenes' seed
COUNT = 420
# scikit-image's photographs of real scenes. Left out: its microscopy, astronomy and drawn test pictures, and
# `text`, handwriting with digits in it, which would make a frame "without a number" hold some.
PHOTOS = ("astronaut", "brick", "camera", "cat", "coffee", "coins", "grass", "gravel", "stereo_motorcycle",
          "page", "rocket", "clock")


def write_skimage_photos(out: Path) -> Path:
    """scikit-image's photographs as PNG files in `out` (one line to stderr and exit 1 without scikit-image)."""
    try:
        from skimage import data
    except ImportError:
        sys.exit("error: the outside photographs come from scikit-image: pip install scikit-image "
                 "(or pass --photos DIR)")
    out.mkdir(parents=True, exist_ok=True)
    for name in PHOTOS:
        pixels = getattr(data, name)()
        pixels = np.asarray(pixels[0] if isinstance(pixels, tuple) else pixels)  # a stereo pair: its left view
        Image.fromarray(pixels.astype(np.uint8)).save(out / f"{name}.png")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "data" / "outside_scenes", help="folder to (re)build")
    p.add_argument("--photos", type=Path, help="folder of photographs (default: scikit-image's, written beside --out)")
    p.add_argument("--svhn", type=Path, default=ROOT.parent / "shared" / "data" / "svhn", help="the real SVHN data")
    p.add_argument("--workers", type=int, default=2, help="processes")
    p.add_argument("--count", type=int, default=COUNT, help="frames (the published check: %(default)s)")
    args = p.parse_args(argv)
    photos = args.photos or write_skimage_photos(args.out.parent / f"{args.out.name}_photos")
    spec = SceneSpec(size=(640, 480), real=args.svhn / "recon" / "test", real_share=1.0, photos=photos)
    counts = build(args.out, SEED, spec, args.workers, args.count)
    if counts is not None:
        print(f"{args.out}: {counts[0]} frames with a number, {counts[1]} without (640x480, recon/test numbers "
              f"on {photos})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
