"""Read house numbers live from a camera, a video or pictures, with an int8 TF Lite model (no TensorFlow).

Examples:

    python -m edge_app --source picamera --roi 200,120,240,120 --jsonl readings.jsonl
    python -m edge_app --source ../shared/data/svhn/recon/test --boxes --threshold 0
    python -m edge_app --model models/house_numbers_edgetpu.tflite --edgetpu --source camera:0 --scan

Exit codes: 0 done (also after SIGTERM/Ctrl-C), 1 the source or the output failed mid-run,
2 bad model, source or arguments.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .app import App, AppConfig
from .contract import ContractError
from .inference.card import ModelError
from .inference.reader import DEFAULT_MODEL
from .outputs import OutputError
from .regions import parse_roi
from .sources import SourceError


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
        return w, h
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected WIDTHxHEIGHT, e.g. 640x480") from None


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


def parse_args(argv=None) -> AppConfig:
    p = argparse.ArgumentParser(prog="python -m edge_app", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="int8 .tflite with its .json beside it (default: the shipped model)")
    p.add_argument("--source", required=True, help="picamera | camera:N | VIDEO file | IMAGE_DIR | IMAGE")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--roi", type=str, help="x,y,w,h: the fixed region to read, in frame pixels (draw it ~15%% wider than the digits)")
    where.add_argument("--scan", action="store_true", help="try windows of a few sizes over the frame, keep the most confident")
    where.add_argument("--boxes", action="store_true", help="picture folders with a digitStruct: read the labelled digit region")
    p.add_argument("--threshold", type=float, help="confidence gate (default: the model's coverage-at-98%% threshold)")
    p.add_argument("--smooth", type=_smooth, default=(3, 5), help="K/N: report a reading once it won K of the last N frames, or off (live sources only; default 3/5)")
    p.add_argument("--jsonl", type=Path, help="append one JSON line per reported reading")
    p.add_argument("--annotate", type=Path, help="save frames with the region and reading drawn into this folder")
    p.add_argument("--preview", action="store_true", help="show frames in a window where a display exists")
    p.add_argument("--threads", type=int, help="interpreter threads (default: the interpreter's)")
    p.add_argument("--edgetpu", action="store_true", help="run a *_edgetpu.tflite on a Coral Edge TPU")
    p.add_argument("--size", type=_size, default=(640, 480), help="camera frame size WxH (default 640x480)")
    p.add_argument("--retries", type=int, default=5, help="camera reconnects in a row before giving up (default 5)")
    p.add_argument("--backoff", type=float, default=0.5, help="first wait in seconds between reconnects, doubled each time (default 0.5)")
    p.add_argument("--max-frames", type=int, help="stop after N frames")
    p.add_argument("--quiet", action="store_true", help="no console line per reading")
    a = p.parse_args(argv)
    try:
        roi = parse_roi(a.roi) if a.roi else None
    except ValueError as err:
        p.error(str(err))
    if a.annotate:
        a.annotate.mkdir(parents=True, exist_ok=True)
    return AppConfig(a.model, a.source, roi, a.scan, a.boxes, a.threshold, a.smooth, a.jsonl, a.annotate,
                     a.preview, a.threads, a.edgetpu, a.size, a.retries, a.backoff, a.max_frames, a.quiet)


def main(argv=None) -> int:
    logging.basicConfig(format="%(message)s", level=logging.INFO, stream=sys.stderr)
    cfg = parse_args(argv)
    try:
        app = App(cfg)
    except (ModelError, ContractError) as err:
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
    return 0 if summary is not None else 1


if __name__ == "__main__":
    sys.exit(main())
