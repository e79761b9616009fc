"""Read house numbers live from a camera, a video or pictures, with an int8 TF Lite model (no TensorFlow).

Examples:

    python -m edge_app --source picamera --roi 200,120,240,120 --jsonl readings.jsonl
    python -m edge_app --source ../shared/data/svhn/recon/test --boxes --threshold 0
    python -m edge_app --model models/house_numbers_edgetpu.tflite --edgetpu --source camera:0 --scan
    python -m edge_app --config /etc/house-numbers/device.toml --http 8080
    python -m edge_app doctor        # preflight: numpy, interpreter, picamera2, libedgetpu, cameras, model card

Exit codes: 0 done (also after SIGTERM/Ctrl-C), 1 the source failed mid-run or an output lost readings,
2 bad model, source, output or arguments.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from . import cli
from .app import App, AppConfig
from .config import ConfigError, parse_with_config
from .contract import ContractError
from .interpreter import DEFAULT_MODEL, ModelError
from .outputs import OutputError, build_outputs
from .outputs.http import parse_http
from .outputs.mqtt import DEFAULT_PREFIX, parse_mqtt_url, topic_part
from .package import version
from .regions import parse_roi
from .sources import SOURCE_HELP, SourceError


def _smooth(text: str) -> tuple[int, int] | None:
    if text == "off":
        return None
    try:
        k, n = (int(v) for v in text.split("/"))
        if not 1 <= k <= n:
            raise ValueError
        return k, n
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected K/N with 1 <= K <= N (e.g. 3/5), or off") from None


def _checked(parse):
    """An argparse type from a parser that raises ValueError with a message."""
    def checked(text: str):
        try:
            return parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    checked.__name__ = parse.__name__
    return checked


def _roi(text: str):
    try:
        return parse_roi(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix(f"--roi {text!r}: ")) from None


WHERE = ("roi", "scan", "boxes")  # where to read: one of them, from the command line or the config file


def build_parser() -> argparse.ArgumentParser:
    """Every flag; each is also a key of the same name in the --config file."""
    p = cli.Parser(prog="python -m edge_app", description=__doc__, formatter_class=cli.HelpFormatter)
    p.add_argument("--config", type=Path, help="device.toml: a key per flag (same name, no dashes); flags on the command line win")
    p.add_argument("--version", action="version", version=f"house-numbers {version()}")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="int8 .tflite with its .json beside it (default: the shipped model)")
    p.add_argument("--source", help=f"{SOURCE_HELP} (required, here or in --config)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--roi", type=_roi, help="x,y,w,h: the fixed region to read, in frame pixels (draw it ~15%% wider than the digits)")
    where.add_argument("--scan", action="store_true", help="try windows of a few sizes over the frame, keep the most confident")
    where.add_argument("--boxes", action="store_true", help="picture folders with a digitStruct: read the labelled digit region")
    p.add_argument("--threshold", type=cli.probability, help="confidence gate (default: the model's coverage-at-98%% threshold)")
    p.add_argument("--smooth", type=_smooth, default=(3, 5), help="K/N: report a reading once it won K of the last N frames, or off (live sources only; default 3/5)")
    p.add_argument("--fps", type=cli.positive_float, help="at most N frames a second, so the device is not busy all the time (default: no cap)")
    p.add_argument("--jsonl", type=cli.output_file, help="append one JSON line per reported reading")
    p.add_argument("--annotate", type=Path, help="save every frame with the region and reading drawn into this folder")
    p.add_argument("--preview", action=argparse.BooleanOptionalAction, default=False, help="show frames in a window (needs a display and a GUI build of OpenCV)")
    p.add_argument("--threads", type=cli.threads, help="interpreter threads (default: the interpreter's)")
    p.add_argument("--edgetpu", action=argparse.BooleanOptionalAction, default=False, help="run a *_edgetpu.tflite on a Coral Edge TPU")
    p.add_argument("--size", type=cli.frame_size, default=(640, 480), help="camera frame size WxH; on a Pi camera the main stream the reader crops from (default 640x480)")
    p.add_argument("--autofocus", choices=("continuous", "auto", "manual"), help="Pi Camera Module 3 focus: continuous, auto (one sweep at start) or manual (default: the camera's own)")
    p.add_argument("--retries", type=cli.nonnegative_int, default=5, help="camera reconnects in a row before giving up (default 5)")
    p.add_argument("--backoff", type=cli.positive_float, default=0.5, help="first wait in seconds between reconnects, doubled each time (default 0.5)")
    p.add_argument("--max-frames", type=cli.positive_int, help="stop after N frames")
    p.add_argument("--quiet", action=argparse.BooleanOptionalAction, default=False, help="no console line per reading")
    p.add_argument("-v", "--verbose", action="store_true", help="debug lines too (one per HTTP request, MQTT details)")
    w = p.add_argument_group("web page and JSON API")
    w.add_argument("--http", type=_checked(parse_http), help="[HOST:]PORT: serve the status page (live view, draw the region) and /api/...; loopback unless a host is given")
    w.add_argument("--http-token", help="a secret the page and API ask for (?token=... or Authorization: Bearer ...); required for a host other than loopback")
    m = p.add_argument_group("MQTT (Home Assistant finds the sensor by itself through MQTT discovery)")
    m.add_argument("--mqtt", type=_checked(parse_mqtt_url), help="broker: mqtt://[user:pass@]host[:port] or mqtts://... for TLS (port 1883 / 8883)")
    m.add_argument("--mqtt-prefix", type=_checked(topic_part), default=DEFAULT_PREFIX, help="first topic level (default %(default)s)")
    m.add_argument("--mqtt-id", type=_checked(topic_part), help="device id, the second topic level (default: the hostname)")
    m.add_argument("--mqtt-ca", type=Path, help="CA certificate file to check the broker with (TLS; default: the system's CAs)")
    m.add_argument("--mqtt-cert", type=Path, help="client certificate file, for brokers that ask for one (TLS)")
    m.add_argument("--mqtt-key", type=Path, help="the client certificate's private key file")
    m.add_argument("--mqtt-spool", type=Path, help="folder where readings wait while the broker is away (default ~/.local/state/house-numbers/mqtt-spool/ID)")
    m.add_argument("--mqtt-spool-max", type=cli.positive_int, default=10_000, help="readings the spool keeps at most; beyond, the oldest are dropped and counted (default %(default)s)")
    m.add_argument("--mqtt-retry-max", type=cli.float_range(1, 3600), default=30.0, help="longest wait in seconds between reconnect attempts; they start at 1 s and double (default %(default)s)")
    return p


def parse_args(argv=None) -> AppConfig:
    """The command line merged over --config; raises ConfigError for a bad file (argparse exits for bad flags)."""
    p = build_parser()
    a = parse_with_config(p, argv, exclusive=(WHERE,))
    if not a.source:
        p.error("--source is required (on the command line or as `source = ...` in the --config file)")
    if sum(bool(getattr(a, key)) for key in WHERE) > 1:
        raise ConfigError(f"{a.config}: keys {', '.join(k for k in WHERE if getattr(a, k))} exclude each other; keep one")
    cli.setup_logging(verbose=a.verbose)
    return AppConfig(**{f.name: getattr(a, f.name) for f in fields(AppConfig) if hasattr(a, f.name)})


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else [str(a) for a in argv]
    if args[:1] == ["doctor"]:  # the preflight: python -m edge_app doctor --help
        from .doctor import main as doctor

        return doctor(args[1:])
    try:
        cfg = parse_args(argv)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        outputs = build_outputs(cfg)
    except OutputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        app = App(cfg, outputs)
    except (ModelError, ContractError) as err:
        for output in outputs:
            output.close()
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        summary = app.run()
    except SourceError as err:
        print(f"error: {err}", file=sys.stderr)
        code = 2 if app.summary.as_dict()["frames"] == 0 else 1
        print(app.summary.text(), file=sys.stderr)
        return code
    except (OutputError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        print(app.summary.text(), file=sys.stderr)
        return 1
    print(app.summary.text(), file=sys.stderr)
    if app.lost:
        print(f"error: {app.lost} readings could not be delivered by an output (see above)", file=sys.stderr)
        return 1
    return 0 if summary is not None else 1


if __name__ == "__main__":
    sys.exit(main())
