"""Teach the reader that part of a number is not a number: labelled pictures cut to a run of their digits.

A detector box that cuts a house number's end off is read, confidently, as the rest of it ("10" for 103):
behind the detector, almost every wrong reading that passes the gate is such a part. This writes, for each
picture of several digits, the region of its first digits and of its last digits (all but one to all but
n-1), each a digitStruct.csv row labelled "no number" (label 0) whose box is that run's union, so the contract
grows it by 30% and the cut-off digit shows at the edge as it does behind the detector. Pictures are cut
around the region with scripts/reader_negatives.py's margin. Only training pictures: never SVHN test ones,
and not the pictures a reader holds out for validation (scripts/validation_pictures.py --training gives the
others). Example:

    python scripts/partial_numbers.py --data data/val_fit_recon data/synth --per-picture 1 --out data/partials
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from edge_app.annotations import Annotation, read_annotations, write_csv  # noqa: E402
from edge_app.contract import digit_region, load_image, union_box  # noqa: E402
from scripts.reader_negatives import cut, partial_folder  # noqa: E402
from train.folders import is_test_folder  # noqa: E402


def runs(n: int) -> list[tuple[int, int]]:
    """The strict runs of an n-digit number that keep one end: (start, stop) of its first or its last digits."""
    return [(0, k) for k in range(1, n)] + [(k, n) for k in range(1, n)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, nargs="+", required=True, help="labelled training folders (digitStruct)")
    p.add_argument("--out", type=Path, required=True, help="labelled folder to write (must not exist)")
    p.add_argument("--per-picture", type=int, default=2, help="parts drawn per picture of 2+ digits (default: 2)")
    p.add_argument("--seed", type=int, default=0, help="which parts are drawn")
    args = p.parse_args(argv)
    for folder in args.data:
        if is_test_folder(folder):
            p.error(f"{folder} is a test split: cut parts from training pictures only")
    if args.out.exists():
        p.error(f"{args.out} exists; pick a new --out")
    partial = partial_folder(args.out)
    rng = np.random.default_rng(args.seed)
    annotations, sources = [], {}
    for i, folder in enumerate(args.data):
        for a in tqdm(read_annotations(folder), desc=f"parts of {folder}", unit="picture"):
            if len(a.digits) < 2:
                continue
            image = load_image(folder / a.name)
            options = runs(len(a.digits))
            for k in rng.choice(len(options), size=min(args.per_picture, len(options)), replace=False):
                start, stop = options[k]
                part = (union_box(a.boxes[start:stop]),)
                picture, moved, _ = cut(image, digit_region(part), part)
                name = f"{i}_{Path(a.name).stem}_{start}{stop}.png"
                picture.save(partial / name)
                annotations.append(Annotation(name, (), moved))
                sources[name] = f"{folder / a.name} digits {start}:{stop} of {''.join(map(str, a.digits))}"
    write_csv(partial / "digitStruct.csv", annotations)
    (partial / "partials.json").write_text(json.dumps({"data": [str(d) for d in args.data], "seed": args.seed,
                                                       "per_picture": args.per_picture, "sources": sources}))
    partial.rename(args.out)
    print(json.dumps({"pictures": len(annotations)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
