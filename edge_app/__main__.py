"""Read house numbers live from a camera, a video or pictures, with an int8 TF Lite model (no TensorFlow).

Examples:

    python -m edge_app --source picamera --jsonl readings.jsonl          # the detector finds the number
    python -m edge_app --source picamera --roi 200,120,240,120 --jsonl readings.jsonl
    python -m edge_app --source ../shared/data/svhn/recon/test --boxes --threshold 0
    python -m edge_app --model models/house_numbers_edgetpu.tflite --edgetpu --source camera:0 --scan
    python -m edge_app --config /etc/house-numbers/device.toml --http 8080
    python -m edge_app doctor        # preflight: numpy, interpreter, picamera2, libedgetpu, cameras, model card
    python -m edge_app token         # a new --http-token for a page open to the network

Exit codes: 0 done (also after SIGTERM/Ctrl-C), 1 the source failed mid-run or an output lost readings,
2 bad model, detector, source, output or arguments, or a frame smaller than the detector's input.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from . import cli
from .app import App, AppConfig
from .config import ConfigError, own, parse_with_config
from .contract import TTA_VIEWS, ContractError
from .detect import LOOKS
from .inference.card import ModelError
from .inference.detector import DEFAULT_DETECTOR, FrameTooSmall
from .inference.reader import DEFAULT_MODEL
from .live import TRACK_GATE
from .outputs import OutputError, build_outputs
from .outputs.registry import add_arguments as add_output_arguments
from .package import version
from .regions import parse_roi
from .smoothing import TRACKS, parse_smooth
from .sources import SOURCE_HELP, SourceError
from .sources.base import SourceUnavailable
from .tiles import LIVE_TILES


def _roi(text: str):
    try:
        return parse_roi(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix(f"--roi {text!r}: ")) from None


WHERE = ("roi", "scan", "boxes", "detect")  # where to read: one of them, from the command line or the config file


def build_parser() -> argparse.ArgumentParser:
    """Every flag; each is also a key of the same name in the --config file."""
    p = cli.Parser(prog="python -m edge_app", description=__doc__, formatter_class=cli.HelpFormatter)
    p.add_argument("--config", type=Path,
                   help="device.toml: a key per flag (same name, no dashes); flags on the command line win")
    p.add_argument("--version", action="version", version=f"house-numbers {version()}")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL,
                   help="int8 .tflite with its .json beside it (default: the shipped model)")
    p.add_argument("--source", help=f"{SOURCE_HELP} (required, here or in --config)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--roi", type=_roi,
                       help="x,y,w,h: the fixed region to read, in frame pixels (draw it ~15%% wider than the digits)")
    where.add_argument("--scan", action="store_true",
                       help="try windows of a few sizes over the frame, keep the most confident")
    where.add_argument("--boxes", action="store_true",
                       help="picture folders with a digitStruct: read the labelled digit region")
    where.add_argument("--detect", action="store_true",
                       help="find the number with the detector (the default without --roi, --scan or --boxes)")
    p.add_argument("--detector", type=Path, default=DEFAULT_DETECTOR,
                   help="detector .tflite with its .json beside it (default: the shipped one)")
    p.add_argument("--box-threshold", type=cli.probability,
                   help="detector score a box needs (default: the detector card's scene gate, else its own threshold)")
    p.add_argument("--looks", type=int, choices=(1, 2), default=LOOKS,
                   help="detector looks per frame: 2 looks again at each of the best boxes through a window of the "
                   "full frame, for tighter boxes (on held-out tuning scenes 13 points more numbers read right at "
                   "threshold 0, for about 1.5 ms more a box here); 1 is the faster first look alone")
    p.add_argument("--tiles", type=cli.int_range(0, 64),
                   help=f"with --detect, tiles of the frame looked at besides the whole frame, so small far numbers "
                   f"are found (edge_app.tiles): N per frame of a live source, in turn, and all of a picture's. "
                   f"Default: only frames larger than 640x480 get tiles ({LIVE_TILES} a live frame); 0: never")
    p.add_argument("--threshold", type=cli.probability,
                   help="confidence gate (default: the model card's gate, coverage at 98%% on validation data)")
    p.add_argument("--smooth", type=parse_smooth, default=TRACKS,
                   help="live sources only. tracks (default): with the detector, follow each number across frames, "
                   "fuse what every frame reads of it, report it once sure and again when it has gone (edge_app.live; "
                   "with --roi or --scan, the 3/5 vote); K/N: report a reading once it won K of the last N frames; "
                   "off: every frame alone")
    p.add_argument("--track-gate", type=cli.probability,
                   help=f"with --smooth tracks, the fused confidence a number must reach to be reported "
                   f"(default {TRACK_GATE}, chosen on the tuning clips: a lower gate reports more numbers and more "
                   "wrong ones)")
    p.add_argument("--fps", type=cli.positive_float,
                   help="at most N frames a second, so the device is not busy all the time (default: no cap)")
    p.add_argument("--threads", type=cli.threads, help="interpreter threads (default: the interpreter's)")
    p.add_argument("--tta", type=cli.int_range(1, len(TTA_VIEWS)),
                   help=f"test-time views averaged per region, 1..{len(TTA_VIEWS)}: about +2 points of accuracy at 7, "
                   "for about 7x the reader's time. With --detect, per box: the centre view reads and the views weigh "
                   "its confidence; the detector's scene gate holds only for the views it was tuned with (default: "
                   "those views with --detect, else 1)")
    p.add_argument("--edgetpu", action=argparse.BooleanOptionalAction, default=False,
                   help="run a *_edgetpu.tflite on a Coral Edge TPU")
    p.add_argument("--size", type=cli.frame_size, default=(640, 480),
                   help="camera frame size WxH; on a Pi camera the main stream the reader crops from (default 640x480)")
    p.add_argument("--autofocus", choices=("continuous", "auto", "manual"),
                   help="Pi Camera Module 3 focus: continuous, auto (one sweep at start) or manual (default: the "
                   "camera's own)")
    cam = p.add_argument_group("camera controls (Pi camera; USB cameras take the flips, exposure, gain, brightness)")
    cam.add_argument("--lens-position", type=cli.float_range(0.0, 32.0), metavar="DIOPTRES",
                     help="fixed focus, in dioptres (1 / distance in metres; 0 is infinity): 0.25 focuses at 4 m "
                     "(Camera Module 3; sets manual focus)")
    cam.add_argument("--hflip", action="store_true", help="mirror the picture left-right")
    cam.add_argument("--vflip", action="store_true", help="turn the picture upside down (with --hflip: a camera "
                     "mounted rotated by 180 degrees)")
    cam.add_argument("--exposure-us", type=cli.positive_int, metavar="MICROSECONDS",
                     help="a fixed exposure time, auto exposure off (default: auto)")
    cam.add_argument("--gain", type=cli.float_range(1.0, 64.0), help="analogue gain (default: auto)")
    cam.add_argument("--brightness", type=cli.float_range(-1.0, 1.0), help="brightness, -1..1 (default: the camera's)")
    cam.add_argument("--zoom", type=cli.float_range(1.0, 16.0), default=1.0,
                     help="digital zoom on the Pi camera: the sensor's centre 1/ZOOM at full resolution, so a far "
                     "number gets more pixels (default 1: the whole sensor)")
    p.add_argument("--retries", type=cli.nonnegative_int, default=5,
                   help="camera reconnects in a row before giving up (default 5)")
    p.add_argument("--backoff", type=cli.positive_float, default=0.5,
                   help="first wait in seconds between reconnects, doubled each time (default 0.5)")
    p.add_argument("--max-frames", type=cli.positive_int, help="stop after N frames")
    p.add_argument("-v", "--verbose", action="store_true", help="debug lines too (one per HTTP request, MQTT details)")
    add_output_arguments(p)  # each output declares its own flags (edge_app/outputs/)
    return p


def parse_args(argv=None) -> AppConfig:
    """The command line merged over --config; raises ConfigError for a bad file (argparse exits for bad flags)."""
    p = build_parser()
    a = parse_with_config(p, argv, exclusive=(WHERE,))
    if not a.source:
        p.error("--source is required (on the command line or as `source = ...` in the --config file)")
    if sum(bool(getattr(a, key)) for key in WHERE) > 1:
        keys = ", ".join(k for k in WHERE if getattr(a, k))
        raise ConfigError(f"{a.config}: keys {keys} exclude each other; keep one")
    cli.setup_logging(verbose=a.verbose)
    return AppConfig(**{f.name: getattr(a, f.name) for f in fields(AppConfig) if hasattr(a, f.name)})


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else [str(a) for a in argv]
    if args[:1] == ["doctor"]:  # the preflight: python -m edge_app doctor --help
        from .doctor import main as doctor

        return doctor(args[1:])
    if args[:1] == ["token"]:  # a new --http-token for a page open to the network
        from .outputs.http import new_token

        print(new_token())
        return 0
    try:
        cfg = parse_args(argv)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return cli.run(lambda: _run(cfg))  # Ctrl-C or SIGTERM while the model loads: a quiet exit 130


def _run(cfg: AppConfig) -> int:
    try:
        if cfg.config is not None:
            own(cfg.config)  # held until the process ends
        outputs = build_outputs(cfg)
    except (OutputError, ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        app = App(cfg, outputs)
    except BaseException as err:
        for output in outputs:
            output.close()
        if not isinstance(err, (ModelError, ContractError)):
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        app.run()
    except SourceError as err:
        print(f"error: {err}", file=sys.stderr)
        # A wrong source stays wrong (2); a camera or stream not there yet, or lost mid-run, may come back (1).
        code = 2 if app.summary.as_dict()["frames"] == 0 and not isinstance(err, SourceUnavailable) else 1
        print(app.summary.text(), file=sys.stderr)
        return code
    except FrameTooSmall as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OutputError as err:
        print(f"error: {err}", file=sys.stderr)
        print(app.summary.text(), file=sys.stderr)
        return 1
    print(app.summary.text(), file=sys.stderr)
    if app.lost:
        print(f"error: {app.lost} readings could not be delivered by an output (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
