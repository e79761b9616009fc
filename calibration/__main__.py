"""Build the representative set for int8 calibration from training data (never test data).

Examples (a reader's set of number regions; a detector's set of whole frames from training scenes):

    python -m calibration --data data/synth,../shared/data/svhn/recon/train --count 500 --out calib.npz
    python -m calibration --kind detector --data data/scenes --count 300 --out det_calib.npz
"""

from __future__ import annotations

import argparse
import sys

from train.cache import DataError

from .build import build, save


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m calibration", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="labelled training folders, comma-separated")
    p.add_argument("--count", type=int, default=500, help="inputs in the set (default 500)")
    p.add_argument("--out", required=True, help="the .npz file to write")
    p.add_argument("--seed", type=int, default=0, help="seed of the draw (default 0)")
    p.add_argument("--kind", choices=("reader", "detector"), default="reader",
                   help="reader: number regions from labelled pictures; detector: whole frames from scene folders")
    args = p.parse_args(argv)
    try:
        if args.kind == "detector":
            from .detector import build_detector

            inputs, provenance = build_detector(args.data, args.count, args.seed)
        else:
            inputs, provenance = build(args.data, args.count, args.seed)
        save(args.out, inputs, provenance)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    spread = provenance.get("per_length") or provenance.get("per_number_count")
    print(f"wrote {args.out}: {len(inputs)} {args.kind} inputs, {'per length' if args.kind == 'reader' else 'per number count'} {spread}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
