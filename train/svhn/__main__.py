"""Fetch the SVHN format-1 archives (train/test/extra), verify their MD5 and extract them.

Example:
    python -m train.svhn download --splits train,test --dir data/svhn
    python -m train.svhn download --splits extra --dir data/svhn --archives ~/Downloads  # fetched by hand
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .archives import ARCHIVES, BASE_URL
from .download import DownloadError, download


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Show defaults, and keep the example lines of the description as written."""


class _Parser(argparse.ArgumentParser):
    """Report bad usage in one line on stderr (exit 2) rather than a usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _splits(text: str) -> list[str]:
    splits = list(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))  # ordered, no repeats
    if not splits or any(s not in ARCHIVES for s in splits):
        raise argparse.ArgumentTypeError(f"expected a comma-separated subset of {','.join(ARCHIVES)}, got {text!r}")
    return splits


def _seconds(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m train.svhn", description=__doc__, formatter_class=_Formatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = commands.add_parser(
        "download",
        help="download, verify and extract splits into DIR/<split>/",
        description=__doc__,
        formatter_class=_Formatter,
    )
    p.add_argument("--splits", type=_splits, default="train,test", help="comma-separated: train, test, extra")
    p.add_argument(
        "--dir",
        type=Path,
        required=True,
        default=argparse.SUPPRESS,
        help="where DIR/<split>/ (N.png + digitStruct.mat) goes",
    )
    p.add_argument("--url", default=BASE_URL, help="base URL the archives are published under")
    p.add_argument(
        "--archives",
        type=Path,
        default=None,
        help="folder of archives fetched by hand (e.g. train.tar.gz): use them instead of downloading",
    )
    p.add_argument(
        "--keep-archives",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="keep downloaded .tar.gz files in DIR after extraction",
    )
    p.add_argument("--timeout", type=_seconds, default=10.0, help="seconds to wait to connect or for data")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True, help="show progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        download(
            args.splits,
            args.dir,
            base_url=args.url,
            archives_dir=args.archives,
            keep_archives=args.keep_archives,
            timeout=args.timeout,
            progress=args.progress,
        )
    except (DownloadError, OSError) as e:  # OSError: disk full, no permission; the message names the file
        print("error: " + " ".join(str(e).split()), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
