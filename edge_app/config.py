"""`--config device.toml`: every flag has a key of the same name (without the dashes), and flags win.

Example (deploy/device.toml has a full one):

    source = "picamera"
    roi = "200,120,240,120"       # or [200, 120, 240, 120]
    jsonl = "/var/lib/house-numbers/readings.jsonl"
    quiet = true

The file is checked against the command line's own parser, so a key takes exactly what its flag takes; an
unknown key or a bad value is one line naming the key (exit 2). `save_roi` writes a new ROI back, keeping
the rest of the file (comments included) as it was, through a temp file and a rename.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import stat
import sys
from pathlib import Path

from .atomic import hold, write_atomic

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 on older devices
    import tomli as tomllib

JOINERS = {"roi": ",", "size": "x"}  # keys that also take a TOML list: [x, y, w, h], [640, 480]


class ConfigError(ValueError):
    """A config file that cannot be used; the message is one line that names the file and the key."""


def parse_with_config(parser: argparse.ArgumentParser, argv=None, *,
                      exclusive: tuple[tuple[str, ...], ...] = ()) -> argparse.Namespace:
    """Parse the command line, then fill what it did not give from `--config FILE`; raises ConfigError.

    `exclusive`: groups of keys where a flag given on the command line drops the file's keys of the group
    (e.g. --scan on the command line overrides roi = ... in the file).
    """
    args = parser.parse_args(argv)
    if not getattr(args, "config", None):
        return args
    given = _given(parser, argv)
    values = read_config(args.config, parser)
    for group in exclusive:
        if given & set(group):
            for key in group:
                values.pop(key, None)
    for dest, value in values.items():
        if dest not in given:
            setattr(args, dest, value)
    return args


def read_config(path, parser: argparse.ArgumentParser) -> dict:
    """The file's keys checked and converted as their flags would be: {dest: value}."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # a BOM from a Windows editor is fine
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read it ({getattr(err, 'strerror', None) or err})") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    actions = {a.option_strings[0][2:]: a for a in parser._actions
               if a.option_strings and a.option_strings[0].startswith("--")}
    actions.pop("help", None)
    actions.pop("config", None)  # one config file; it cannot name another
    values = {}
    for key, value in data.items():
        if isinstance(value, dict):
            raise ConfigError(f"{path}: key {key!r} is a table; put every key at the top level (no [sections])")
        action = actions.get(key)
        if action is None:
            close = difflib.get_close_matches(key.replace("_", "-"), actions, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{path}: unknown key {key!r}{hint}; the keys are the flag names without '--'")
        values[action.dest] = convert(path, key, value, action, parser)
    return values


def convert(path, key: str, value, action: argparse.Action, parser):
    """A TOML value through the flag's own type and choices."""
    where = f"{path}: key {key!r}"
    if action.nargs == 0:  # a switch
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected a value like its flag takes, got {str(value).lower()}")
    if isinstance(value, list):
        if key not in JOINERS or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            raise ConfigError(f"{where}: expected a single value, got a list")
        value = JOINERS[key].join(_number(v) for v in value)
    text = value if isinstance(value, str) else _number(value)
    try:
        converted = parser._get_values(action, [text])  # the flag's type and choices, exactly as on the command line
    except argparse.ArgumentError as err:
        raise ConfigError(f"{where}: {err.message}") from None
    return converted


def _number(v) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _given(parser: argparse.ArgumentParser, argv) -> set[str]:
    """The dests the command line set itself: argparse fills in a default only where the namespace has none."""
    unset = object()
    ns = argparse.Namespace(**{a.dest: unset for a in parser._actions if a.dest != argparse.SUPPRESS})
    parser.parse_args(argv, namespace=ns)
    return {dest for dest, value in vars(ns).items() if value is not unset}


ROI_LINE = re.compile(r"^\s*roi\s*=\s*(\[[^\]]*\]|\"[^\"]*\"|'[^']*'|[^#\s]+)?(?P<comment>\s*#.*)?$")
MODE_LINE = re.compile(r"^(\s*)(scan|boxes|detect)(\s*=\s*true\b.*)$")
TABLE_LINE = re.compile(r"^\s*\[")


def save_roi(path, roi: tuple[float, float, float, float]) -> None:
    """Write `roi = "x,y,w,h"` into the config file (replacing the old line, turning off scan), atomically.

    A symlinked config keeps its link (the file it points at is replaced) and its permissions (a 0600 file that
    holds the MQTT password stays 0600). A file this line-wise edit cannot change safely (a `roi =` line inside
    a multi-line string, say) raises ValueError and is left as it was."""
    path, text, mode = _current(path)
    value = ",".join(_number(round(float(v), 1)) for v in roi)
    line = f'roi = "{value}"'
    out, done = [], False
    for old in text.splitlines():
        match = ROI_LINE.match(old)
        if match and not done:
            out.append(line + (match["comment"] or ""))  # the line's own comment stays
            done = True
        elif MODE_LINE.match(old):  # an ROI and a scan are exclusive: keep the old line as a comment
            out.append(f"# {old.strip()}  (off: the web page set the roi)")
        else:
            out.append(old)
    if not done:
        out.insert(_before_tables(out), line)
    parsed = _checked(out)
    if parsed.get("roi") != value or any(parsed.get(k) is True for k in ("scan", "boxes", "detect")):
        raise ValueError("its roi line is not one this writer can edit (inside a string or a table?); edit it by hand")
    write_atomic(path, "\n".join(out) + "\n", mode)


def save_keys(path, values: dict) -> None:
    """Write `key = value` for each of `values` into the config file, as save_roi writes the region: each key's
    line replaced (its comment kept) or added before the tables, the rest of the file, a symlink and the mode
    kept; ValueError, and the file as it was, when a line cannot be edited safely."""
    path, text, mode = _current(path)
    out = text.splitlines()
    for key, value in values.items():
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=\s*(\"[^\"]*\"|'[^']*'|[^#\s]+)?(?P<comment>\s*#.*)?$")
        line = f"{key} = {_toml(value)}"
        at = next((i for i, old in enumerate(out) if pattern.match(old)), None)
        if at is None:
            out.insert(_before_tables(out), line)
        else:
            out[at] = line + (pattern.match(out[at])["comment"] or "")
    parsed = _checked(out)
    wrong = [k for k, v in values.items() if parsed.get(k) != v]
    if wrong:
        raise ValueError(f"its {', '.join(wrong)} line is not one this writer can edit (inside a string or a "
                         "table?); edit it by hand")
    write_atomic(path, "\n".join(out) + "\n", mode)


def _current(path) -> tuple[Path, str, int | None]:
    """The file a config path stands for (a link followed), its text and its permissions (None: no file yet)."""
    path = Path(path).resolve()
    if not path.exists():
        return path, "", None
    return path, path.read_text(encoding="utf-8-sig"), stat.S_IMODE(path.stat().st_mode)


def _before_tables(lines: list[str]) -> int:
    """Where a new top-level key goes: before the first table."""
    return next((i for i, old in enumerate(lines) if TABLE_LINE.match(old)), len(lines))


def _checked(lines: list[str]) -> dict:
    """The edited file parsed: never write one the next start cannot read."""
    try:
        return tomllib.loads("\n".join(lines) + "\n")
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"the edited file would not be valid TOML ({err})") from None


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    return json.dumps(str(value))  # a TOML basic string for the strings flags take


def own(path) -> int:
    """Hold the config file for this process (an fcntl lock, released at exit): two apps on one config would
    share its spool and overwrite each other's region. Raises ConfigError when another process holds it.

    The lock is on `.NAME.lock` beside the file, because write-back replaces the file itself (a new inode);
    where the folder is read-only, and so nothing writes the file back, on the file."""
    path = Path(path).resolve()
    try:
        try:
            return hold(path.with_name(f".{path.name}.lock"))
        except BlockingIOError:
            raise
        except OSError:  # a folder this process cannot write in: nothing writes the file back there either
            return hold(path, create=False)
    except BlockingIOError:
        raise ConfigError(f"{path}: another house-numbers process runs with this config file; stop it first, or "
                          "give this one its own config") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot open it ({err.strerror or err})") from None
