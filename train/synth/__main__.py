"""Write synthetic house-number pictures in SVHN format-1 layout (N.png + digitStruct.csv).

Example:
    python -m train.synth --out data/synth --count 20000 --seed 0 --real-digits ../shared/data/svhn/format2_train_dev
    python -m train.synth --out data/synth --count 20000 --real-digits ../shared/data/svhn/format2_train_dev \\
        --hold-out data/val_recon     # keep the digits of the pictures held out for validation unseen

Whole camera frames for the detector: python -m train.synth scenes --help
Camera-like clips for live reading: python -m train.synth clips --help
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from edge_app import cli
from edge_app.contract import ContractError

from . import SynthError, generate

log = logging.getLogger("train.synth")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = cli.parser("python -m train.synth", __doc__)
    p.add_argument("--out", type=Path, required=True, help="folder to create (must be absent or empty)")
    p.add_argument("--count", type=cli.positive_int, required=True, help="number of pictures")
    p.add_argument("--seed", type=cli.nonnegative_int, default=0, help="same seed and count give identical files")
    p.add_argument("--workers", type=cli.int_range(1, 256), default=os.cpu_count() or 1, help="processes")
    p.add_argument(
        "--real-digits",
        type=Path,
        default=None,
        help="folder of real 32x32 digit crops + labels.csv (format2_train_dev) to compose some numbers from",
    )
    p.add_argument(
        "--real-share",
        type=cli.probability,
        default=0.25,
        help="share of pictures composed from real crops when --real-digits is given",
    )
    p.add_argument(
        "--hold-out",
        type=Path,
        action="append",
        default=[],
        metavar="FOLDER",
        help="with --real-digits: leave out the crops of the SVHN train pictures in this labelled folder (e.g. a "
        "reader's validation pictures of recon/train, from scripts/validation_pictures.py), so that a model "
        "trained here never sees their digits; repeatable",
    )
    p.add_argument(
        "--focus",
        action="store_true",
        help="aim at the measured mistakes: more 3-4 digit numbers, 1s and 7s, thin faces, touching digits, "
        "decorated big digits",
    )
    p.add_argument(
        "--plates",
        type=cli.probability,
        default=0.0,
        help="share of drawn pictures that are modern house-number plates: wide-set sans and serif digits on brushed "
        "metal, brass, ceramic, acrylic or enamel, or metal and vinyl digits fixed on brick, render, wood or glass "
        "(default 0: pictures as before)",
    )
    p.add_argument("--force", action="store_true", help="replace a non-empty --out folder")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the generator; errors print one line and return non-zero (cli's exit codes)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["scenes"]:
        from .scenes_cli import main as scenes_main

        return scenes_main(argv[1:])
    if argv[:1] == ["clips"]:
        from .clips_write import main as clips_main

        return clips_main(argv[1:])
    args = parse_args(argv)
    cli.setup_logging(args.verbose, args.quiet)
    return cli.run(lambda: _main(args), errors=(SynthError, ContractError))


def _main(args) -> int:
    out = generate(
        args.out, args.count, args.seed, args.workers, args.force, args.real_digits, args.real_share, not args.quiet,
        focus=args.focus, hold_out=args.hold_out, plates=args.plates,
    )
    log.info("%s: %d pictures", out, args.count)
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
