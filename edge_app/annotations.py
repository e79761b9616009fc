"""One reader for labelled picture folders: SVHN's digitStruct.mat (MATLAB v7.3) or our digitStruct.csv.

Both describe the same thing: per picture N.png, its digit boxes in order with SVHN labels 1..10. Our
.csv may also hold negatives: a picture's one row with label 0 boxes a region without a number.
h5py is needed only for .mat files, so the device can read .csv folders without it.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .contract import Box, ContractError, svhn_digit

CSV_NAME = "digitStruct.csv"
MAT_NAME = "digitStruct.mat"
CSV_FIELDS = ["name", "label", "top", "left", "height", "width"]
NO_NUMBER = 0  # digitStruct.csv only: a picture's one row with label 0 boxes a region that holds no number
FIELDS = ("label", "top", "left", "height", "width")  # per digit box, in digitStruct's order


class Annotation(NamedTuple):
    """A labelled picture: file name, its digits (0..9, left to right) and their boxes."""

    name: str
    digits: tuple[int, ...]
    boxes: tuple[Box, ...]


class Labels(NamedTuple):
    """A label file's good pictures, and one line for each picture left out (file, picture, field)."""

    annotations: list[Annotation]
    bad: dict[str, str]  # picture name -> what is wrong with its label


class _BadField(ValueError):
    """One field of one digit box is wrong: a NaN box, label 13, a missing column."""


def annotation_file(folder) -> Path:
    """The label file of a folder: digitStruct.csv if present (no h5py needed), else digitStruct.mat."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ContractError(f"{folder}: no such folder")
    for name in (CSV_NAME, MAT_NAME):
        if (folder / name).is_file():
            return folder / name
    raise ContractError(f"{folder}: holds neither {CSV_NAME} nor {MAT_NAME}; is it an SVHN format-1 folder?")


def read_labels(folder) -> Labels:
    """All pictures of a folder's label file; a picture with a bad box or label is left out and named."""
    path = annotation_file(folder)
    return csv_labels(path) if path.suffix == ".csv" else mat_labels(path)


def read_annotations(folder) -> list[Annotation]:
    """All annotations of a folder, in file order; ContractError naming the first bad picture, if any."""
    return _strict(read_labels(folder))


def read_csv(path) -> list[Annotation]:
    """Read digitStruct.csv (name;label;top;left;height;width, one line per digit box), strictly."""
    return _strict(csv_labels(Path(path)))


def read_mat(path) -> list[Annotation]:
    """Read SVHN's digitStruct.mat (HDF5: per picture a name and a bbox group of scalars or references), strictly."""
    return _strict(mat_labels(Path(path)))


def _strict(labels: Labels) -> list[Annotation]:
    if labels.bad:
        more = f" (and {len(labels.bad) - 1} more)" if len(labels.bad) > 1 else ""
        raise ContractError(next(iter(labels.bad.values())) + more)
    return labels.annotations


def digit_box(values: dict) -> tuple[int, Box]:
    """One box's raw label, top, left, height, width -> (digit 0..9, Box); _BadField names what is wrong."""
    numbers = {}
    for field in FIELDS:
        raw = values.get(field)
        if raw is None or raw == "":
            raise _BadField(f"field '{field}' is missing")
        try:
            numbers[field] = float(raw)
        except (TypeError, ValueError):
            raise _BadField(f"field '{field}' is {raw!r}, not a number") from None
        if not math.isfinite(numbers[field]):
            raise _BadField(f"field '{field}' is {raw!r}, not a finite number")
    label = numbers["label"]
    if label != int(label) or not 1 <= label <= 10:
        raise _BadField(f"field 'label' is {values['label']!r}, not an SVHN digit label 1..10")
    for field in ("height", "width"):
        if numbers[field] <= 0:
            raise _BadField(f"field '{field}' is {values[field]!r}: an empty box")
    return svhn_digit(int(label)), Box(numbers["left"], numbers["top"], numbers["width"], numbers["height"])


def csv_labels(path) -> Labels:
    """Read a digitStruct.csv-layout file; pictures with a bad row are left out and named."""
    path = Path(path)
    rows: dict[str, list] = {}
    bad: dict[str, str] = {}
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f, delimiter=";")
            if reader.fieldnames != CSV_FIELDS:
                raise ContractError(f"{path}: header is {reader.fieldnames}, expected {';'.join(CSV_FIELDS)}")
            for line, row in enumerate(reader, start=2):
                name = row.get("name") or f"(no name, line {line})"
                if name in bad:
                    continue
                try:
                    negative = (row.get("label") or "").strip() == str(NO_NUMBER)  # None: a short row
                    digit, box = digit_box({**row, "label": "10"} if negative else row)
                    if negative and name in rows or any(d is None for d, _ in rows.get(name, ())):
                        raise _BadField(f"label {NO_NUMBER} (no number) must be the picture's only row")
                    rows.setdefault(name, []).append((None if negative else digit, box))
                except _BadField as err:
                    bad[name] = f"{path}:{line}: {name} left out: {err}"
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise ContractError(f"{path}: cannot read ({err})") from None
    # A negative picture has no digits and one box: the region that is read (its target is length 0).
    return Labels([Annotation(n, tuple(d for d, _ in v if d is not None), tuple(b for _, b in v))
                   for n, v in rows.items() if n not in bad], bad)


def mat_labels(path) -> Labels:
    """Read a digitStruct.mat; pictures with a bad box are left out and named."""
    path = Path(path)
    try:
        import h5py
    except ImportError:
        raise ContractError(f"{path}: reading .mat label files needs h5py (pip install h5py)") from None
    out, bad = [], {}
    try:
        with h5py.File(path, "r") as f:
            ds = f["digitStruct"]
            names, bboxes = ds["name"][()], ds["bbox"][()]  # the reference columns read once, not per row
            for i in range(len(names)):
                name = f"picture #{i + 1}"
                try:
                    name = "".join(map(chr, _mat_read(_mat_deref(f, names[i][0])).ravel()))
                    group = _mat_deref(f, bboxes[i][0])
                    fields = [_mat_values(f, h5py.h5o.open(group, k.encode())) for k in FIELDS]
                    if len({len(v) for v in fields}) != 1 or not fields[0]:
                        raise _BadField(f"its fields hold {[len(v) for v in fields]} values, not one per box")
                    items = [digit_box(dict(zip(FIELDS, v))) for v in zip(*fields)]
                    out.append(Annotation(name, tuple(d for d, _ in items), tuple(b for _, b in items)))
                except _BadField as err:
                    bad[name] = f"{path}: {name} left out: {err}"
                except (OSError, KeyError, TypeError, ValueError, IndexError) as err:
                    bad[name] = f"{path}: {name} left out: its bbox is unreadable ({type(err).__name__})"
    except (OSError, KeyError, TypeError, ValueError, IndexError) as err:
        raise ContractError(f"{path}: not a valid SVHN digitStruct.mat ({type(err).__name__}: {err})") from None
    return Labels(out, bad)


# h5py's low-level calls: a digitStruct holds ~30,000 tiny datasets, and opening each through the high-level
# API (f[ref]) takes half the time of reading the file.
def _mat_deref(f, ref):
    import h5py

    return h5py.h5r.dereference(ref, f.id)


def _mat_read(dataset) -> np.ndarray:
    import h5py

    values = np.empty(dataset.shape, dataset.dtype)
    dataset.read(h5py.h5s.ALL, h5py.h5s.ALL, values)
    return values


def _mat_values(f, dataset) -> list[float]:
    # One box: the dataset holds the value itself. Several: it holds references to 1x1 datasets.
    values = _mat_read(dataset).ravel()
    if values.dtype.kind != "O":
        return [float(v) for v in values]
    return [float(_mat_read(_mat_deref(f, ref)).ravel()[0]) for ref in values]


def write_csv(path, annotations: list[Annotation]) -> None:
    """Write annotations as digitStruct.csv (labels back in SVHN's 1..10 coding; label 0 for a negative)."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\n")
        w.writerow(CSV_FIELDS)
        for a in annotations:
            labels = [d if d else 10 for d in a.digits] if a.digits else [NO_NUMBER]
            for label, b in zip(labels, a.boxes):
                w.writerow([a.name, label, *(f"{v:.1f}" for v in (b.top, b.left, b.height, b.width))])
