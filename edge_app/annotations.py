"""One reader for labelled picture folders: SVHN's digitStruct.mat (MATLAB v7.3) or our digitStruct.csv.

Both describe the same thing: per picture N.png, its digit boxes in order with SVHN labels 1..10.
h5py is needed only for .mat files, so the device can read .csv folders without it.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import NamedTuple

from .contract import Box, ContractError, svhn_digit

CSV_NAME = "digitStruct.csv"
MAT_NAME = "digitStruct.mat"
CSV_FIELDS = ["name", "label", "top", "left", "height", "width"]


class Annotation(NamedTuple):
    """A labelled picture: file name, its digits (0..9, left to right) and their boxes."""

    name: str
    digits: tuple[int, ...]
    boxes: tuple[Box, ...]


def annotation_file(folder) -> Path:
    """The label file of a folder: digitStruct.csv if present (no h5py needed), else digitStruct.mat."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ContractError(f"{folder}: no such folder")
    for name in (CSV_NAME, MAT_NAME):
        if (folder / name).is_file():
            return folder / name
    raise ContractError(f"{folder}: holds neither {CSV_NAME} nor {MAT_NAME}; is it an SVHN format-1 folder?")


def read_annotations(folder) -> list[Annotation]:
    """All annotations of a folder, in file order."""
    path = annotation_file(folder)
    return read_csv(path) if path.suffix == ".csv" else read_mat(path)


def read_csv(path) -> list[Annotation]:
    """Read digitStruct.csv (name;label;top;left;height;width, one line per digit box)."""
    rows: dict[str, list] = {}
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f, delimiter=";")
            if reader.fieldnames != CSV_FIELDS:
                raise ContractError(f"{path}: header is {reader.fieldnames}, expected {';'.join(CSV_FIELDS)}")
            for line, row in enumerate(reader, start=2):
                try:
                    box = Box(float(row["left"]), float(row["top"]), float(row["width"]), float(row["height"]))
                    digit = svhn_digit(int(float(row["label"])))
                except (TypeError, ValueError) as err:
                    raise ContractError(f"{path}:{line}: bad row ({err})") from None
                rows.setdefault(row["name"], []).append((digit, box))
    except (OSError, UnicodeDecodeError) as err:
        raise ContractError(f"{path}: cannot read ({err})") from None
    return [_annotation(name, items, path) for name, items in rows.items()]


def read_mat(path) -> list[Annotation]:
    """Read SVHN's digitStruct.mat: HDF5 with per picture a name and a bbox group of scalars or references."""
    try:
        import h5py
    except ImportError:
        raise ContractError(f"{path}: reading .mat label files needs h5py (pip install h5py)") from None
    try:
        with h5py.File(path, "r") as f:
            ds = f["digitStruct"]
            names, bboxes = ds["name"], ds["bbox"]
            out = []
            for i in range(len(names)):
                name = "".join(chr(c) for c in f[names[i][0]][()].ravel())
                group = f[bboxes[i][0]]
                fields = {k: _mat_values(f, group[k]) for k in ("label", "top", "left", "height", "width")}
                items = [
                    (svhn_digit(int(lab)), Box(left, top, width, height))
                    for lab, top, left, height, width in zip(*(fields[k] for k in ("label", "top", "left", "height", "width")))
                ]
                out.append(_annotation(name, items, path))
            return out
    except ContractError:
        raise
    except (OSError, KeyError, TypeError, ValueError) as err:
        raise ContractError(f"{path}: not a valid SVHN digitStruct.mat ({type(err).__name__}: {err})") from None


def _mat_values(f, dataset) -> list[float]:
    # One box: the dataset holds the value itself. Several: it holds references to 1x1 datasets.
    if dataset.shape[0] == 1 and dataset.dtype.kind != "O":
        return [float(dataset[0][0])]
    return [float(f[ref[0]][()].ravel()[0]) for ref in dataset[()]]


def _annotation(name: str, items: list, path) -> Annotation:
    if not items:
        raise ContractError(f"{path}: {name} has no digit boxes")
    for _, box in items:
        if box.width <= 0 or box.height <= 0:
            raise ContractError(f"{path}: {name} has an empty box {tuple(box)}")
    return Annotation(name, tuple(d for d, _ in items), tuple(b for _, b in items))


def write_csv(path, annotations: list[Annotation]) -> None:
    """Write annotations as digitStruct.csv (labels back in SVHN's 1..10 coding)."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\n")
        w.writerow(CSV_FIELDS)
        for a in annotations:
            for d, b in zip(a.digits, a.boxes):
                w.writerow([a.name, d if d else 10, f"{b.top:.1f}", f"{b.left:.1f}", f"{b.height:.1f}", f"{b.width:.1f}"])
