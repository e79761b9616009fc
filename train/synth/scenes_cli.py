"""Write camera frames of house fronts with 0, 1 or 2 house numbers, for training and testing the detector.

Example:
    python -m train.synth scenes --out data/scenes --count 12000 --seed 1 --size 192x144
    python -m train.synth scenes --out data/scenes_real --count 4000 --seed 2 --real ../shared/data/svhn/recon/train

Writes N.png, digitStruct.csv (digit boxes in frame pixels) and scenes.json (the digit boxes of each
number; empty frames).
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from edge_app import cli
from edge_app.contract import ContractError

from . import SynthError
from .scenes import SceneSpec
from .scenes_write import write_scenes

log = logging.getLogger("train.synth")


def main(argv: list[str]) -> int:
    """`python -m train.synth scenes ...`; errors print one line (cli's exit codes)."""
    p = cli.parser("python -m train.synth scenes", __doc__)
    p.add_argument("--out", type=Path, required=True, help="folder to create (must be absent or empty)")
    p.add_argument("--count", type=cli.positive_int, required=True, help="number of frames")
    p.add_argument("--seed", type=cli.nonnegative_int, default=0, help="same seed and count give identical files")
    p.add_argument("--size", type=cli.frame_size, default=(640, 480), help="frame width x height")
    p.add_argument("--real", type=Path, default=None,
                   help="labelled folder of real pictures to paste (recon/train for training; recon/test only for the "
                   "dev set)")
    p.add_argument("--real-share", type=cli.probability, default=0.5, help="share of the numbers taken from --real")
    p.add_argument("--photos", type=Path, default=None,
                   help="folder of photographs to use as whole backgrounds instead of drawn house fronts (an "
                   "outside check: scripts/make_outside_scenes.py)")
    p.add_argument("--height-range", type=_height_range, default=SceneSpec.height_range, metavar="LO,HI",
                   help="number height as a share of the frame height, drawn log-uniform (default: 0.05,0.4, what "
                   "the detector trains on; 0.3,0.7 for close-ups)")
    p.add_argument("--two-share", type=cli.float_range(0.0, 0.9), default=SceneSpec.two_share,
                   help="share of frames with two numbers")
    p.add_argument("--empty-share", type=cli.float_range(0.0, 0.9), default=SceneSpec.empty_share,
                   help="share of frames without a number")
    p.add_argument("--clutter", type=cli.probability, default=SceneSpec.clutter,
                   help="share of frames that also show round things, small print, railings, faces or open ground "
                   "(train/synth/clutter.py): hard negatives for the detector")
    p.add_argument("--plates", type=cli.probability, default=SceneSpec.plates,
                   help="share of drawn numbers that are modern house-number plates (train/synth/plates.py)")
    p.add_argument("--workers", type=cli.int_range(1, 256), default=os.cpu_count() or 1, help="processes")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out folder")
    args = p.parse_args(argv)
    cli.setup_logging(args.verbose, args.quiet)
    spec = SceneSpec(size=args.size, real=args.real, real_share=args.real_share, empty_share=args.empty_share,
                     two_share=args.two_share, height_range=args.height_range, photos=args.photos,
                     clutter=args.clutter, plates=args.plates)
    return cli.run(lambda: _main(args, spec), errors=(SynthError, ContractError))


def _height_range(text: str) -> tuple[float, float]:
    """'LO,HI' -> (lo, hi) with 0 < lo < hi <= 1."""
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected LO,HI, e.g. 0.05,0.4") from None
    if not 0 < lo < hi <= 1:
        raise argparse.ArgumentTypeError(f"{text!r}: need 0 < LO < HI <= 1 (shares of the frame height)")
    return lo, hi


def _main(args, spec: SceneSpec) -> int:
    out = write_scenes(args.out, args.count, args.seed, spec, args.workers, args.force, not args.quiet)
    log.info("%s: %d frames", out, args.count)
    return cli.EXIT_OK
