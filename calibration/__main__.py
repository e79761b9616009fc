"""Build the representative set for int8 calibration from training data (never test data).

Examples (a reader's set of number regions; a detector's set of whole frames from training scenes):

    python -m calibration --data data/synth,../shared/data/svhn/recon/train --count 500 --out calib.npz
    python -m calibration --kind detector --data data/scenes --count 300 --out det_calib.npz
"""

from __future__ import annotations

import logging
import sys

from edge_app import cli
from train.cache import DataError

from .build import build, save

log = logging.getLogger("calibration")


def main(argv=None) -> int:
    p = cli.parser("python -m calibration", __doc__)
    p.add_argument("--data", required=True, help="labelled training folders, comma-separated")
    p.add_argument("--count", type=cli.int_range(1, 100_000), default=500, help="inputs in the set")
    p.add_argument("--out", type=cli.output_file, required=True, help="the .npz file to write")
    p.add_argument("--seed", type=cli.nonnegative_int, default=0, help="seed of the draw")
    p.add_argument("--skip-bad", action="store_true", help="leave out pictures that cannot be read or whose label "
                   "is bad (each is named), instead of stopping")
    p.add_argument("--kind", choices=("reader", "detector"), default="reader",
                   help="reader: number regions from labelled pictures; detector: whole frames from scene folders")
    args = p.parse_args(argv)
    cli.setup_logging(args.verbose, args.quiet)
    return cli.run(lambda: _main(args), errors=(DataError,))


def _main(args) -> int:
    if args.kind == "detector":
        from .detector import build_detector

        inputs, provenance = build_detector(args.data, args.count, args.seed)
    else:
        inputs, provenance = build(args.data, args.count, args.seed, skip_bad=args.skip_bad)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save(args.out, inputs, provenance)
    spread = provenance.get("per_length") or provenance.get("per_number_count")
    log.info("wrote %s: %d %s inputs, %s %s", args.out, len(inputs), args.kind,
             "per length" if args.kind == "reader" else "per number count", spread)
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
