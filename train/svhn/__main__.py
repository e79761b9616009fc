"""Fetch the SVHN format-1 archives (train/test/extra), verify their MD5 and extract them.

Example:

    python -m train.svhn download --splits train,test --dir data/svhn
    python -m train.svhn download --splits extra --dir data/svhn --archives ~/Downloads  # fetched by hand

Exit codes: 0 done, 1 the download failed (network, broken archive), 2 bad arguments or a hand-fetched
archive that is missing or wrong, 130 interrupted (rerun the same command to resume).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edge_app import cli

from .archives import ARCHIVES, BASE_URL
from .download import DownloadError, download


def _splits(text: str) -> list[str]:
    splits = list(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))  # ordered, no repeats
    if not splits or any(s not in ARCHIVES for s in splits):
        raise argparse.ArgumentTypeError(f"expected a comma-separated subset of {','.join(ARCHIVES)}, got {text!r}")
    return splits


def build_parser() -> argparse.ArgumentParser:
    parser = cli.parser("python -m train.svhn", __doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=cli.Parser)
    p = commands.add_parser("download", help="download, verify and extract splits into DIR/<split>/",
                            description=__doc__, formatter_class=cli.HelpFormatter)
    cli.add_logging_flags(p)
    p.add_argument("--splits", type=_splits, default="train,test", help="comma-separated: train, test, extra")
    p.add_argument("--dir", type=Path, required=True, help="where DIR/<split>/ (N.png + digitStruct.mat) goes")
    p.add_argument("--url", default=BASE_URL, help="base URL the archives are published under")
    p.add_argument("--archives", type=Path, help="folder of archives fetched by hand (e.g. train.tar.gz): "
                   "use them instead of downloading")
    p.add_argument("--keep-archives", action=argparse.BooleanOptionalAction, default=False,
                   help="keep downloaded .tar.gz files in DIR after extraction")
    p.add_argument("--timeout", type=cli.positive_float, default=10.0, help="seconds to wait to connect or for data")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True, help="show progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cli.setup_logging(args.verbose, args.quiet)
    return cli.run(lambda: _main(args), errors=(DownloadError,))


def _main(args) -> int:
    try:
        download(args.splits, args.dir, base_url=args.url, archives_dir=args.archives,
                 keep_archives=args.keep_archives, timeout=args.timeout, progress=args.progress)
    except KeyboardInterrupt:
        raise cli.UserError("interrupted: rerun the same command to resume", cli.EXIT_INTERRUPTED) from None
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
