"""Render the parts of the docs that must not drift: the command-line and config references from the argparse
parsers, and every results table from the JSON report it comes from.

    python scripts/render_docs.py            # rewrite docs/reference/*.md and the tables in README.md and docs/
    python scripts/render_docs.py --check    # exit 1 and name what differs (tests/test_docs.py runs this)

A table lives between `<!-- table: NAME -->` and `<!-- /table -->` in any page; NAME is a key of TABLES
(scripts/doc_tables.py).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # train.portable would ask for JAX, which a workstation may lack
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(ROOT))

from edge_app.atomic import write_atomic  # noqa: E402
from scripts.doc_tables import TABLES  # noqa: E402

# (command as a user types it, module whose main() takes argv, argv prefix): the reference's sections, in order
COMMANDS = (
    ("python -m edge_app", "edge_app.__main__", []),
    ("python -m edge_app doctor", "edge_app.__main__", ["doctor"]),
    ("python -m edge_app.bench", "edge_app.bench", []),
    ("python -m train.svhn", "train.svhn.__main__", []),
    ("python -m train.synth", "train.synth.__main__", []),
    ("python -m train.synth scenes", "train.synth.__main__", ["scenes"]),
    ("python -m train.synth clips", "train.synth.__main__", ["clips"]),
    ("python -m train", "train.__main__", []),
    ("python -m train.portable", "train.portable", []),
    ("python -m train.evaluate", "train.evaluate", []),
    ("python -m train.recover", "train.recover", []),
    ("python -m calibration", "calibration.__main__", []),
    ("python -m export", "export.__main__", []),
)
TABLE = re.compile(r"(<!-- table: ([a-z0-9-]+) -->\n)(.*?)(<!-- /table -->)", re.DOTALL)


def _help(module: str, prefix: list[str]) -> str:
    """The --help text of a command, as argparse prints it at 100 columns."""
    os.environ["COLUMNS"] = "100"
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        importlib.import_module(module).main([*prefix, "--help"])
    return out.getvalue().rstrip() + "\n"


def cli_reference() -> str:
    parts = ["# Command-line reference\n",
             "Every command's `--help`, generated from its parser by `python scripts/render_docs.py` (a test fails "
             "when this page and the parsers differ). The conventions they share are in "
             "[Getting started](../getting-started.md).\n"]
    for command, module, prefix in COMMANDS:
        parts.append(f"## `{command}`\n\n```text\n{_help(module, prefix)}```\n")
    return "\n".join(parts)


def config_reference() -> str:
    from edge_app.__main__ import build_parser

    rows = []
    for action in build_parser()._actions:
        longs = [s for s in action.option_strings if s.startswith("--")]
        if not longs or action.dest in ("help", "config", "version"):
            continue
        key = longs[0][2:]
        if action.nargs == 0:
            kind = "true / false"
        elif action.choices:
            kind = " / ".join(str(c) for c in action.choices)
        else:
            kind = action.metavar or "value"
        default = action.default if action.default not in (None, argparse.SUPPRESS, False) else ""
        if isinstance(default, (tuple, list)):
            default = ",".join(str(v) for v in default)
        if isinstance(default, Path):  # the checkout's own place would differ from machine to machine
            default = default.relative_to(ROOT) if default.is_relative_to(ROOT) else default.name
        text = (action.help or "").replace("%%", "%").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{key}` | `{longs[0]}` | {kind} | {default} | {text} |")
    return ("# Configuration reference\n\n"
            "`python -m edge_app --config device.toml` reads a TOML file: every flag of `python -m edge_app` is a key "
            "of the same name without the dashes, checked by the flag's own parser; flags on the command line win. "
            "`deploy/device.toml` is a commented example. Generated from the parser by "
            "`python scripts/render_docs.py`.\n\n"
            "```toml\nsource = \"picamera\"\nhttp = \"8080\"\nmqtt = \"mqtt://homeassistant.local\"\n"
            "autofocus = \"continuous\"\n```\n\n"
            "| key | flag | value | default | what it does |\n|---|---|---|---|---|\n" + "\n".join(rows) + "\n")


def fill_tables(text: str) -> str:
    def one(m: re.Match) -> str:
        name = m.group(2)
        if name not in TABLES:
            raise SystemExit(f"unknown table {name!r}; known: {', '.join(TABLES)}")
        return f"{m.group(1)}{TABLES[name]()}\n{m.group(4)}"
    return TABLE.sub(one, text)


def rendered() -> dict[Path, str]:
    """Every generated file and every page with tables, as it should read."""
    out = {ROOT / "docs" / "reference" / "cli.md": cli_reference(),
           ROOT / "docs" / "reference" / "config.md": config_reference()}
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        if page in out:
            continue
        text = page.read_text()
        if TABLE.search(text):
            out[page] = fill_tables(text)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 naming each file that differs")
    args = p.parse_args(argv)
    stale = []
    for path, text in rendered().items():
        if not path.is_file() or path.read_text() != text:
            stale.append(path.relative_to(ROOT))
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(path, text)  # a stopped run leaves each page old or new, never half
    if args.check and stale:
        print("out of date (run python scripts/render_docs.py): " + ", ".join(map(str, stale)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
