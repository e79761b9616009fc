"""Build the representative set for int8 calibration from training data (never test data).

Example:

    python -m calibration --data data/synth,../shared/data/svhn/recon/train --count 500 --out calib.npz
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
    args = p.parse_args(argv)
    try:
        inputs, provenance = build(args.data, args.count, args.seed)
        save(args.out, inputs, provenance)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: {len(inputs)} inputs, per length {provenance['per_length']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
