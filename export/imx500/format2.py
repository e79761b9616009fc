"""SVHN format-2 digit crops as a labelled format-1 folder, so the reader's calibration draws them through the contract.

A format-2 crop is the square window (side max(w, h)) centred on one digit's box, resized to 32x32
(../shared/data/svhn/README.md), so the digit's box inside it follows from the format-1 box: that box, scaled.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from edge_app.annotations import Annotation, write_csv
from edge_app.contract import Box, svhn_digit

CROP = 32  # format-2 crops are 32x32


def format1_folder(crops: Path, boxes_csv: Path, out: Path) -> Path:
    """Link each crop of `crops` (images/ + labels.csv) into `out` with a digitStruct.csv of its digit's box."""
    with open(boxes_csv, newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    by_image: dict[str, list[dict]] = {}
    for row in rows:
        by_image.setdefault(row["name"], []).append(row)
    out.mkdir(parents=True, exist_ok=True)
    annotations = []
    with open(crops / "labels.csv", newline="") as f:
        for row in csv.DictReader(f):
            box = by_image[row["format1_image"]][int(row["digit_index"])]
            w, h = float(box["width"]), float(box["height"])
            scale = CROP / max(w, h)  # the window's side is max(w, h), resized to CROP
            bw, bh = w * scale, h * scale
            link = out / row["file"]
            if not link.exists():
                os.symlink((crops / "images" / row["file"]).resolve(), link)
            annotations.append(Annotation(row["file"], (svhn_digit(int(row["label"])),),
                                          (Box((CROP - bw) / 2, (CROP - bh) / 2, bw, bh),)))
    write_csv(out / "digitStruct.csv", annotations)
    return out
