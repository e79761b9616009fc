"""Write synthetic house-number pictures in SVHN format-1 layout (N.png + digitStruct.csv).

Example:
    python -m train.synth --out data/synth --count 20000 --seed 0 --real-digits ../shared/data/svhn/format2_train_dev

Whole camera frames for the detector: python -m train.synth scenes --help
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from edge_app.contract import ContractError

from . import SynthError, generate


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        # One line, no usage block: scripts and people both read it.
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = _Parser(
        prog="python -m train.synth", description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--out", type=Path, required=True, help="folder to create (must be absent or empty)")
    p.add_argument("--count", type=_positive, required=True, help="number of pictures")
    p.add_argument("--seed", type=int, default=0, help="same seed and count give identical files")
    p.add_argument("--workers", type=_positive, default=os.cpu_count() or 1, help="processes")
    p.add_argument(
        "--real-digits",
        type=Path,
        default=None,
        help="folder of real 32x32 digit crops + labels.csv (format2_train_dev) to compose some numbers from",
    )
    p.add_argument(
        "--real-share",
        type=float,
        default=0.25,
        help="share of pictures composed from real crops when --real-digits is given",
    )
    p.add_argument(
        "--focus",
        action="store_true",
        help="aim at the measured mistakes: more 3-4 digit numbers, 1s and 7s, thin faces, touching digits, "
        "decorated big digits",
    )
    p.add_argument("--force", action="store_true", help="replace a non-empty --out folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the generator; errors print one line and return non-zero."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["scenes"]:
        from .scenes_cli import main as scenes_main

        return scenes_main(argv[1:], _Parser, _positive)
    args = parse_args(argv)
    try:
        out = generate(
            args.out, args.count, args.seed, args.workers, args.force, args.real_digits, args.real_share, not args.quiet,
            focus=args.focus,
        )
    except (SynthError, ContractError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; nothing written", file=sys.stderr)
        return 130
    print(f"{out}: {args.count} pictures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
