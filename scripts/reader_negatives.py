"""Teach the reader what is not a number: the boxes the detector finds where no number is, from training scenes.

Runs the shipped detector (edge_app's own code, no TensorFlow) at a low score threshold over scenes made
from training pictures, and writes a labelled folder for `python -m train`: each box that overlaps no
number (IoU under --max-iou) becomes a negative (a digitStruct.csv row with label 0: read as "no number"),
and each number of the frame a positive with its digit boxes, so the reader also sees numbers on facades.
Each picture is cut around its region with a margin, which keeps the folder small and the contract's crop
unchanged. With --partials N, up to N boxes a frame that the app itself would read (its two looks) and that
cut a digit of a number off are negatives too: the reader learns that part of a number is not a number,
instead of reading "10" for 103. Never run it on the dev scenes or on anything made from SVHN test pictures,
and keep the pictures a reader holds out for validation out of its scenes. Example:

    python -m train.synth scenes --out data/sc/m640 --count 1500 --seed 41 --real ../shared/data/svhn/recon/train
    python scripts/reader_negatives.py --scenes data/sc/m640 --out data/reader_neg
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from PIL import Image
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from edge_app.annotations import Annotation, write_csv  # noqa: E402
from edge_app.contract import Box, digit_region, expand_box, load_image  # noqa: E402
from edge_app.detect import find_boxes  # noqa: E402
from edge_app.inference.detector import DEFAULT_DETECTOR, NumberDetector, intersection, iou  # noqa: E402
from edge_app.regions import detection_region  # noqa: E402
from edge_app.scenes import read_scenes  # noqa: E402
from train.folders import is_test_folder  # noqa: E402

MARGIN = 0.5  # the cut-out is the reader's region grown by half again, clipped to the frame
WHOLE, CUT = 0.9, 0.5  # a digit this much inside the reader's region is whole; this little, cut off


def inside_share(box: Box, region: Box) -> float:
    """The share of `box`'s area that lies inside `region`."""
    area = box.width * box.height
    return intersection(box, region) / area if area > 0 else 0.0


def cuts_off_digits(region: Box, digits: tuple[Box, ...]) -> bool:
    """True when the region shows part of a number: a digit whole and another cut off (in between: False)."""
    shares = [inside_share(d, region) for d in digits]
    return max(shares) >= WHOLE and min(shares) <= CUT


def cut(image, region: Box, boxes: tuple[Box, ...]) -> tuple[Image.Image, tuple[Box, ...], tuple[int, int]]:
    """The part of the frame around `region`, `boxes` moved into its coordinates, and its top-left corner."""
    h, w = image.shape[:2]
    outer = expand_box(region, MARGIN)
    x0, y0 = max(0, int(outer.left)), max(0, int(outer.top))
    x1, y1 = min(w, int(outer.left + outer.width) + 1), min(h, int(outer.top + outer.height) + 1)
    moved = tuple(Box(b.left - x0, b.top - y0, b.width, b.height) for b in boxes)
    return Image.fromarray(image[y0:y1, x0:x1]), moved, (x0, y0)


def partial_folder(out: Path) -> Path:
    """An empty `<out>.partial` beside `out`, renamed to `out` once whole: a stop leaves no half folder named out."""
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    return partial


def mine(scenes: Path, out: Path, detector: NumberDetector, threshold: float, max_iou: float,
         per_frame: int, partials: int = 0) -> tuple[dict, dict]:
    """Write the negatives and positives of every frame into `out`; returns the counts and where each was cut."""
    annotations, cuts = [], {}

    def add(image, name: str, digits: tuple[int, ...], boxes: tuple[Box, ...]) -> None:
        picture, moved, cuts[name] = cut(image, digit_region(boxes), boxes)
        picture.save(out / name)
        annotations.append(Annotation(name, digits, moved))

    for scene in tqdm(read_scenes(scenes), desc="mining", unit="frame"):
        image = load_image(scenes / scene.name)
        stem = Path(scene.name).stem
        for k, number in enumerate(scene.numbers):
            add(image, f"{stem}_n{k}.png", tuple(number.digits), number.boxes)
        truth = scene.number_boxes()
        wrong = [d for d in detector.detect(image, threshold=threshold)
                 if max((iou(d.box, t) for t in truth), default=0.0) < max_iou]
        for k, d in enumerate(wrong[:per_frame]):
            add(image, f"{stem}_x{k}.png", (), (d.box,))
        if partials:
            read = find_boxes(detector, image, threshold)  # what the app reads, with its two looks
            cutting = [d for d in read if any(iou(d.box, t) >= max_iou and
                                              cuts_off_digits(detection_region(d.box), n.boxes)
                                              for t, n in zip(truth, scene.numbers))]
            for k, d in enumerate(cutting[:partials]):
                add(image, f"{stem}_p{k}.png", (), (d.box,))
    write_csv(out / "digitStruct.csv", annotations)
    negatives = sum(1 for a in annotations if not a.digits)
    counts = {"pictures": len(annotations), "negatives": negatives, "positives": len(annotations) - negatives,
              "partials": sum(1 for a in annotations if "_p" in a.name)}
    return counts, cuts


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenes", type=Path, required=True, help="scene folder made from training pictures")
    p.add_argument("--out", type=Path, required=True, help="labelled folder to write (must not exist)")
    p.add_argument("--detector", type=Path, default=DEFAULT_DETECTOR, help="detector .tflite")
    p.add_argument("--box-threshold", type=float, default=0.3, help="detector score a box needs (default: 0.3)")
    p.add_argument("--max-iou", type=float, default=0.1, help="a box overlapping every number less is a negative")
    p.add_argument("--per-frame", type=int, default=3, help="negatives kept per frame, best score first")
    p.add_argument("--partials", type=int, default=0,
                   help="also up to N boxes a frame that the app reads and that cut a number's digits off")
    args = p.parse_args(argv)
    if is_test_folder(args.scenes) or "dev_scenes" in str(args.scenes):
        p.error(f"{args.scenes} is evaluation data: mine scenes made from training pictures")
    if args.out.exists():
        p.error(f"{args.out} exists; pick a new --out")
    partial = partial_folder(args.out)
    counts, cuts = mine(args.scenes, partial, NumberDetector(args.detector, threads=1), args.box_threshold,
                        args.max_iou, args.per_frame, args.partials)
    settings = {k: getattr(args, k) for k in ("box_threshold", "max_iou", "per_frame", "partials")}
    (partial / "negatives.json").write_text(json.dumps({**counts, "scenes": str(args.scenes), **settings,
                                                        "detector": str(args.detector), "cut_at": cuts}))
    partial.rename(args.out)
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
