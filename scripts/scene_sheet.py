"""Draw a contact sheet of annotated scenes from an eval_scenes.py report: boxes, readings and misses.

Tiles are drawn at random (seeded) from three groups, so the sheet shows hits, misses and empty frames
in fixed numbers rather than hand-picked ones. True number boxes are white, the detector's boxes blue;
the reading is green when right and through the gate, amber when right but under the gate, red when
wrong, "no box" marks a number the detector did not find, and a box the reader calls "no number" is green
on an empty frame and red on a number. Example:

    python scripts/scene_sheet.py --report out/eval_scenes.json --out docs/detector_scenes.png
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge_app.atomic import atomic_path  # noqa: E402
from edge_app.contract import load_image  # noqa: E402

TILE = (320, 240)
GAP, HEADER = 6, 22
WHITE, BLUE, GREEN, AMBER, RED = (255, 255, 255), (0, 160, 255), (40, 200, 60), (255, 170, 0), (230, 40, 40)


def verdict(frame: dict, gate: float) -> tuple[str, tuple[int, int, int]]:
    d = frame.get("detect")
    if d is None:
        return ("no box" if frame["truth"] else "nothing read (right)"), (RED if frame["truth"] else GREEN)
    if not d["reading"]:  # the reader saw the box and said "no number": nothing is reported
        return ("no number (right)", GREEN) if not frame["truth"] else ("read as no number", RED)
    label = f"{d['reading']} {d['confidence']:.2f}"
    if d["reading"] in frame["truth"]:
        return label, GREEN if d["confidence"] >= gate else AMBER
    if not frame["truth"] and d["confidence"] < gate:
        return label + " (gated)", AMBER
    return label, RED


def label(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, colour) -> None:
    """Black text on a box of `colour` at `xy`."""
    left, top, right, bottom = draw.textbbox((0, 0), text)
    x, y = xy
    draw.rectangle((x, y, x + right - left + 6, y + bottom - top + 6), fill=colour)
    draw.text((x + 3 - left, y + 3 - top), text, fill=(0, 0, 0))


def tile(folder: Path, frame: dict, gate: float) -> Image.Image:
    image = Image.fromarray(load_image(folder / frame["name"]))
    sx, sy = TILE[0] / image.width, TILE[1] / image.height
    im = image.resize(TILE, Image.BILINEAR)
    draw = ImageDraw.Draw(im)

    def rect(box, colour, width):
        x, y, w, h = box
        draw.rectangle((x * sx, y * sy, (x + w) * sx, (y + h) * sy), outline=colour, width=width)

    for b in frame["true_boxes"]:
        rect(b, WHITE, 1)
    for d in frame["detections"]:
        rect(d["box"], BLUE, 2)
    text, colour = verdict(frame, gate)
    truth = ",".join(frame["truth"]) or "empty"
    label(draw, (0, 0), f"{text}  (true {truth})", colour)
    return im


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--report", type=Path, required=True, help="JSON written by scripts/eval_scenes.py")
    p.add_argument("--out", type=Path, required=True, help="PNG to write")
    p.add_argument("--hits", type=int, default=6, help="random frames read right")
    p.add_argument("--misses", type=int, default=4, help="random number frames not read right")
    p.add_argument("--empty", type=int, default=2, help="random frames without a number")
    p.add_argument("--columns", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    report = json.loads(args.report.read_text())
    summary = report["summary"]
    gate = summary.get("detect_gate") or summary["gate"]  # --detect's gate (the scene gate), as the app used it
    folder, frames = Path(report["data"]), report["frames"]
    right = [f for f in frames if f["truth"] and f.get("detect", {}).get("reading") in f["truth"]]
    wrong = [f for f in frames if f["truth"] and f not in right]
    empty = [f for f in frames if not f["truth"]]
    rng = np.random.default_rng(args.seed)
    picks = []
    for group, n in ((right, args.hits), (wrong, args.misses), (empty, args.empty)):
        picks += [group[i] for i in sorted(rng.choice(len(group), min(n, len(group)), replace=False))]
    rows = -(-len(picks) // args.columns)
    sheet = Image.new(
        "RGB", (args.columns * (TILE[0] + GAP) + GAP, HEADER + rows * (TILE[1] + GAP) + GAP), (30, 30, 30)
    )
    s = report["summary"]["detect"]
    ImageDraw.Draw(sheet).text(
        (GAP, 5),
        f"{Path(report['data']).name}: --detect with the default gate: precision "
        f"{s['precision']:.1%}, number frames read right {s['number_frames_read_right']:.1%}. "
        f"Random {args.hits} hits, {args.misses} misses, {args.empty} empty frames "
        "(white: true boxes, blue: detector)",
        fill=WHITE,
    )
    for i, f in enumerate(picks):
        r, c = divmod(i, args.columns)
        sheet.paste(tile(folder, f, gate), (GAP + c * (TILE[0] + GAP), HEADER + GAP + r * (TILE[1] + GAP)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out) as tmp:  # never a half-written sheet under the final name
        sheet.save(tmp, format="PNG")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
