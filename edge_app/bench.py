"""Latency of the reader alone, of one ROI frame (crop + resize + invoke + decode), and of the whole
detected frame (640x480: downscale + detect + decode boxes [+ a second look at each box] + crop + read + decode).

Example:

    python -m edge_app.bench --runs 500 --threads 1 --json bench.json
    python -m edge_app.bench --frame street.jpg      # time the detected frame on your own 640x480 picture
    python -m edge_app.bench --threads 1 --tta 3     # each box read through three test-time views, as --tta 3
"""

from __future__ import annotations

import logging
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from . import cli
from .atomic import write_json
from .contract import TTA_VIEWS, Box, ContractError, load_image, model_input
from .detect import LOOKS, DetectAndRead, detect_thresholds, scene_views
from .inference.card import ModelError
from .inference.detector import DEFAULT_DETECTOR, NumberDetector
from .inference.reader import DEFAULT_MODEL, HouseNumberModel
from .timing import latency_stats, time_calls

log = logging.getLogger("edge_app.bench")


def _stats(times_ms) -> dict:
    s = latency_stats(times_ms)
    return {k: s[k] for k in ("p50_ms", "p95_ms", "max_ms", "fps")}


def street_frame(width: int = 640, height: int = 480) -> np.ndarray:
    """A made-up camera frame: a wall with a light plate holding a dark three-digit number (about 12% of the height)."""
    wall = np.linspace(90, 150, width, dtype=np.float32)[None, :, None] * np.array([1.0, 0.9, 0.8], np.float32)
    frame = np.broadcast_to(wall, (height, width, 3)).copy()
    plate = Image.new("RGB", (26, 11), (235, 232, 220))
    ImageDraw.Draw(plate).text((2, 0), "125", fill=(20, 20, 30))  # Pillow's built-in bitmap font, any version
    plate = np.asarray(plate.resize((26 * 5, 11 * 5), Image.NEAREST), np.float32)
    y, x = height * 2 // 5, width * 3 // 5
    frame[y : y + plate.shape[0], x : x + plate.shape[1]] = plate
    return frame.astype(np.uint8)


def bench(
    model_path: Path,
    runs: int = 300,
    threads: int = 1,
    edgetpu: bool = False,
    detector_path: Path | None = None,
    frame: np.ndarray | None = None,
    box_threshold: float | None = None,
    tta: int | None = None,
) -> dict:
    """Time the reader alone, a 640x480 frame with one ROI, and (with a detector) the whole detected frame, with
    the default looks and with one, each box read through `tta` test-time views."""
    model = HouseNumberModel(model_path, threads=threads, edgetpu=edgetpu)
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)  # content does not change a CNN's latency
    roi = Box(200, 180, 240, 120)
    pixels = model_input(noise, roi)
    alone = time_calls(lambda _: model.probabilities(pixels), runs, warmup=10)
    whole = time_calls(lambda _: model.read(model_input(noise, roi)), runs)
    row = {"threads": threads, "model": _stats(alone), "frame": _stats(whole)}
    if detector_path is not None:
        detector = NumberDetector(detector_path, threads=threads)
        frame = street_frame() if frame is None else frame
        finders = {}
        for looks in (LOOKS, 1):
            views = scene_views(detector, model, looks, tta)
            box, _ = detect_thresholds(detector, model, box_threshold, looks=looks, tta=views)
            finders[looks] = DetectAndRead(detector, model, box, looks=looks, tta=views)
        first = finders[1]
        row["detector"] = _stats(time_calls(lambda _: detector.detect(frame, threshold=first.box_threshold), runs,
                                            warmup=5))
        row["detected_frame"] = _stats(time_calls(lambda _: finders[LOOKS](frame), runs))
        row["detected_frame_one_look"] = _stats(time_calls(lambda _: first(frame), runs))
        row["looks"], row["tta"] = LOOKS, finders[LOOKS].tta
        # the content changes how many boxes are looked at again and read; a still frame gives the same each time
        row["boxes_read_per_frame"] = len(finders[LOOKS].find(frame)[: finders[LOOKS].max_read])
    return row


def main(argv=None) -> int:
    p = cli.parser("python -m edge_app.bench", __doc__)
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="the .tflite to time (default: the shipped model)")
    p.add_argument("--runs", type=cli.positive_int, default=300, help="timed runs per measurement")
    p.add_argument("--threads", type=cli.threads, nargs="+", default=[1, 2, 4], help="thread counts to try")
    p.add_argument("--edgetpu", action="store_true", help="time a *_edgetpu.tflite on the Edge TPU")
    p.add_argument("--detector", type=Path, default=DEFAULT_DETECTOR,
                   help="the detector for the whole-frame figure (default: the shipped one)")
    p.add_argument("--no-detector", action="store_true", help="time the reader only")
    p.add_argument(
        "--frame", type=Path, help="picture for the whole detected frame (default: a made-up 640x480 street frame)"
    )
    p.add_argument("--box-threshold", type=cli.probability,
                   help="detector score a box needs (default: the detector card's)")
    p.add_argument("--tta", type=cli.int_range(1, len(TTA_VIEWS)), metavar="N",
                   help="test-time views per detected box, as the app's --tta (default: the detector's scene gate's)")
    p.add_argument("--json", type=cli.output_file, help="write the results to this file")
    args = p.parse_args(argv)
    cli.setup_logging(args.verbose, args.quiet)
    return cli.run(lambda: _main(args), errors=(ModelError, ContractError))


def _main(args) -> int:
    detector = None if args.no_detector else args.detector
    frame = load_image(args.frame) if args.frame else None
    rows = [bench(args.model, args.runs, t, args.edgetpu, detector, frame, args.box_threshold, args.tta)
            for t in args.threads]
    result = {
        "model": str(args.model),
        "detector": None if detector is None else str(detector),
        "frame": str(args.frame) if args.frame else "made-up 640x480 street frame",
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip() + f", {os.cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d"),
        "runs": args.runs,
        "results": rows,
    }
    print(
        f"{'threads':>7}  {'reader p50/p95 ms':>17}  {'ROI frame p50/p95 ms':>20}  {'detector p50/p95 ms':>19}  "
        f"{'detected frame p50/p95 ms':>25}  {'fps':>7}  {'one look p50 ms':>15}"
    )
    for r in rows:
        m, f = r["model"], r["frame"]
        d, w = r.get("detector"), r.get("detected_frame")
        det = f"{d['p50_ms']:>9.2f}/{d['p95_ms']:<9.2f}" if d else f"{'-':>19}"
        whole = f"{w['p50_ms']:>12.2f}/{w['p95_ms']:<12.2f}  {w['fps']:>7.1f}" if w else f"{'-':>25}  {f['fps']:>7.1f}"
        whole += f"  {r['detected_frame_one_look']['p50_ms']:>15.2f}" if w else ""
        print(
            f"{r['threads']:>7}  {m['p50_ms']:>8.2f}/{m['p95_ms']:<8.2f}  "
            f"{f['p50_ms']:>10.2f}/{f['p95_ms']:<9.2f}  {det}  {whole}"
        )
    if args.json:
        write_json(args.json, result)
        log.info("wrote %s", args.json)
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
