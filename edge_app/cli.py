"""What every command line of the project shares: help layout, checked flag types, logging and exit codes.

Exit codes (docs/getting-started.md): 0 done, 1 failed mid-run, 2 bad input or arguments, 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1  # work had started when a source, an output or the disk failed
EXIT_USAGE = 2  # bad arguments or input: refused before anything was written
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM: stopped, partial outputs removed (128 + SIGINT)

MAX_PIXELS = 1 << 16  # frame sizes and ROI values above this are typos, not cameras

log = logging.getLogger("cli")


class UserError(Exception):
    """A mistake in the arguments or the input: reported as one line, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE):
        super().__init__(message)
        self.code = code


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Examples in the description kept as written; defaults shown where there is one worth showing."""

    def _get_help_string(self, action):
        help_text = action.help or ""
        nothing = any(action.default is v for v in (None, False, argparse.SUPPRESS))
        if "default" in help_text or action.required or nothing:
            return help_text
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """Bad usage in one line on stderr and exit 2, rather than a usage block."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def parser(prog: str, doc: str | None, **kwargs) -> argparse.ArgumentParser:
    """An ArgumentParser in the project's style, with -v/--verbose and -q/--quiet."""
    p = Parser(prog=prog, description=doc, formatter_class=HelpFormatter, **kwargs)
    add_logging_flags(p)
    return p


def add_logging_flags(p: argparse.ArgumentParser, quiet_help: str = "only warnings and errors") -> None:
    """-v/--verbose (debug lines too) and -q/--quiet."""
    p.add_argument("-v", "--verbose", action="store_true", help="debug lines too")
    p.add_argument("-q", "--quiet", action="store_true", help=quiet_help)


class _Lines(logging.Formatter):
    """'message' for info and debug, 'warning: message' / 'error: message' above."""

    def format(self, record):
        text = super().format(record)
        return text if record.levelno < logging.WARNING else f"{record.levelname.lower()}: {text}"


OUR_LOGGERS = ("edge_app", "train", "export", "calibration", "cli")


def setup_logging(verbose: bool = False, quiet: bool = False) -> None:
    """Log lines to stderr at INFO (WARNING with -q); -v shows this project's DEBUG lines.

    Other libraries stay at INFO under -v: matplotlib alone would print a line per font it considers.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Lines("%(message)s"))
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, handlers=[handler], force=True)
    for name in OUR_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.NOTSET)


def run(work: Callable[[], int | None], errors: tuple[type[BaseException], ...] = (),
        failures: tuple[type[BaseException], ...] = (OSError,)) -> int:
    """Run a CLI's work and return its exit code.

    UserError and the `errors` given (the caller's user-facing errors) become one line and exit 2 (or
    their own `code`);
    `failures` (by default OSError: a full disk, a vanished folder) one line and exit 1; Ctrl-C and
    SIGTERM a quiet 130. Anything else is a bug and keeps its traceback.
    """
    previous = signal.getsignal(signal.SIGTERM)
    if previous in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _raise_interrupt)  # so `finally` blocks clean up on SIGTERM too
    try:
        code = work()
        return EXIT_OK if code is None else code
    except KeyboardInterrupt:
        log.warning("interrupted")
        return EXIT_INTERRUPTED
    except UserError as err:
        log.error("%s", one_line(err))
        return err.code
    except errors as err:
        log.error("%s", one_line(err))
        return getattr(err, "code", EXIT_USAGE)
    except BrokenPipeError:  # `... | head`: the reader left; nothing more to say
        sys.stdout = open(os.devnull, "w")  # keeps Python's exit-time flush of stdout quiet
        return EXIT_FAILED
    except failures as err:
        log.error("%s", one_line(err))
        return EXIT_FAILED
    finally:
        if previous in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def one_line(err: BaseException) -> str:
    """An error message on one line (multi-line library messages squeezed)."""
    return " ".join(str(err).split()) or type(err).__name__


# ---- flag types: each refuses a bad value in argparse, before anything is allocated or opened ----


def _number(text: str, kind: type, what: str):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def int_range(lo: int, hi: int | None = None) -> Callable[[str], int]:
    """A whole number in lo..hi (hi None: no upper bound)."""

    def parse(text: str) -> int:
        value = _number(text, int, "a whole number")
        if value < lo or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"{value} must be at least {lo}" if hi is None
                                             else f"{value} is not in {lo}..{hi}")
        return value

    parse.__name__ = "whole number"  # what argparse names in "invalid ... value"
    return parse


def float_range(lo: float | None = None, hi: float | None = None, *, above: bool = False) -> Callable[[str], float]:
    """A finite number in [lo, hi] (or (lo, hi] with above=True)."""

    def parse(text: str) -> float:
        value = _number(text, float, "a number")
        low_bad = lo is not None and (value <= lo if above else value < lo)
        if low_bad or (hi is not None and value > hi):
            low = "" if lo is None else f"{'above' if above else 'at least'} {lo:g}"
            high = "" if hi is None else f"at most {hi:g}"
            raise argparse.ArgumentTypeError(f"{value:g} must be {' and '.join(filter(None, (low, high)))}")
        return value

    parse.__name__ = "number"
    return parse


positive_int = int_range(1)
nonnegative_int = int_range(0)
probability = float_range(0.0, 1.0)
positive_float = float_range(0.0, above=True)
threads = int_range(1, 64)  # LiteRT's thread pool; far more than any device has cores


def frame_size(text: str) -> tuple[int, int]:
    """'WIDTHxHEIGHT' -> (w, h), each 1..65536."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected WIDTHxHEIGHT, e.g. 640x480") from None
    if not (1 <= w <= MAX_PIXELS and 1 <= h <= MAX_PIXELS):
        raise argparse.ArgumentTypeError(f"{text!r}: width and height must be 1..{MAX_PIXELS}")
    return w, h


def output_file(text: str) -> Path:
    """A file to write: refused at once when it is a folder or its folder cannot be made."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file name inside it")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"cannot make a folder for {text}: {parent} is not a folder")
    return path
