"""Write camera frames of house fronts with 0, 1 or 2 house numbers, for training and testing the detector.

Example:
    python -m train.synth scenes --out data/scenes --count 12000 --seed 1 --size 192x144
    python -m train.synth scenes --out data/scenes_real --count 4000 --seed 2 --real ../shared/data/svhn/recon/train

Writes N.png, digitStruct.csv (digit boxes in frame pixels) and scenes.json (the digit boxes of each
number; empty frames).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import SynthError
from .scenes import SceneSpec
from .scenes_write import write_scenes


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size WxH: {text!r}") from None
    return w, h


def main(argv: list[str], parser_class, positive) -> int:
    """`python -m train.synth scenes ...`; errors print one line and return 2."""
    p = parser_class(prog="python -m train.synth scenes", description=__doc__,
                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="folder to create (must be absent or empty)")
    p.add_argument("--count", type=positive, required=True, help="number of frames")
    p.add_argument("--seed", type=int, default=0, help="same seed and count give identical files")
    p.add_argument("--size", type=_size, default=(640, 480), help="frame width x height")
    p.add_argument("--real", type=Path, default=None,
                   help="labelled folder of real pictures to paste (recon/train for training; recon/test only for the dev set)")
    p.add_argument("--real-share", type=float, default=0.5, help="share of the numbers taken from --real")
    p.add_argument("--empty-share", type=float, default=0.15, help="share of frames without a number")
    p.add_argument("--workers", type=positive, default=os.cpu_count() or 1, help="processes")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if not (0 <= args.real_share <= 1 and 0 <= args.empty_share <= 0.9):
        p.error("--real-share must be in 0..1 and --empty-share in 0..0.9")
    spec = SceneSpec(size=args.size, real=args.real, real_share=args.real_share, empty_share=args.empty_share)
    try:
        out = write_scenes(args.out, args.count, args.seed, spec, args.workers, args.force, not args.quiet)
    except SynthError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{out}: {args.count} frames")
    return 0
