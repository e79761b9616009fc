"""Hostile inputs, shared by the fuzz and fault tests and scripts/fault_pass.py: mutated bytes and label files.

Also real labelled folders to spoil: SVHN pictures copied with their labels as digitStruct.csv or .mat.
Imports numpy, Pillow and edge_app only (h5py for .mat), so the fault pass runs without pytest.
"""

from __future__ import annotations

import io
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

FORMATS = {"png": "PNG", "jpg": "JPEG", "bmp": "BMP", "webp": "WEBP", "gif": "GIF"}
TOKENS = ["nan", "inf", "-inf", "1e309", "", "x", "-5", "0", "13", "1e9", "-1e9", "3.5", "1" * 40, "\x00", "é"]


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One to four random edits: flipped bits, interesting bytes, a header byte, truncation, a repeated slice."""
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 5))):
        kind = int(rng.integers(0, 5))
        i = int(rng.integers(0, len(b)))
        if kind == 0:
            b[i] ^= 1 << int(rng.integers(0, 8))
        elif kind == 1:
            b[i] = int(rng.choice([0, 1, 0x7F, 0x80, 0xFF]))
        elif kind == 2:
            b[int(rng.integers(0, min(64, len(b))))] = int(rng.integers(0, 256))  # headers hold the sizes
        elif kind == 3:
            b = b[: max(1, i)]
        else:
            j = min(len(b), i + int(rng.integers(1, 64)))
            b[i:i] = b[i:j]
    return bytes(b)


def mutate_csv(text: str, rng: np.random.Generator) -> str:
    """One to three edits of digitStruct.csv rows: a hostile token, a cut row, a copied row, an extra field."""
    lines = text.splitlines()
    for _ in range(int(rng.integers(1, 4))):
        k = int(rng.integers(1, len(lines)))
        fields = lines[k].split(";")
        kind = int(rng.integers(0, 4))
        if kind == 0:
            fields[int(rng.integers(0, len(fields)))] = str(rng.choice(TOKENS))
        elif kind == 1:
            fields = fields[: int(rng.integers(0, len(fields)))]
        elif kind == 2:
            lines.insert(k, lines[k])
        else:
            fields.append(str(rng.choice(TOKENS)))
        lines[k] = ";".join(fields)
    return "\n".join(lines) + "\n"


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims width x height (so Pillow's bomb check fires at open) with no real pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def encoded_pictures(folder: Path, count: int) -> tuple[list, dict[tuple[str, str], bytes]]:
    """The first `count` labelled pictures of `folder` in each of FORMATS: (annotations, {(name, ext): bytes})."""
    from edge_app.annotations import read_annotations

    anns = read_annotations(folder)[:count]
    encoded = {}
    for a in anns:
        im = Image.open(folder / a.name).convert("RGB")
        for ext, fmt in FORMATS.items():
            buf = io.BytesIO()
            im.save(buf, fmt)
            encoded[(a.name, ext)] = buf.getvalue()
    return anns, encoded


def copy_labelled(svhn: Path, folder: Path, count: int, split: str = "test") -> list:
    """The first `count` real recon/<split> pictures copied into `folder` with their digitStruct.csv; their labels."""
    from edge_app.annotations import read_annotations, write_csv

    folder.mkdir(parents=True, exist_ok=True)
    anns = read_annotations(svhn / "recon" / split)[:count]
    for a in anns:
        shutil.copyfile(svhn / "recon" / split / a.name, folder / a.name)
    write_csv(folder / "digitStruct.csv", anns)
    return anns


def write_mat(path: Path, annotations: list) -> None:
    """Annotations as an SVHN digitStruct.mat (HDF5, MATLAB v7.3 layout: per picture a name and a bbox group)."""
    import h5py

    with h5py.File(path, "w") as f:
        refs = f.create_group("#refs#")
        ds = f.create_group("digitStruct")
        ref_type = h5py.special_dtype(ref=h5py.Reference)
        names = ds.create_dataset("name", (len(annotations), 1), dtype=ref_type)
        bboxes = ds.create_dataset("bbox", (len(annotations), 1), dtype=ref_type)
        for i, a in enumerate(annotations):
            names[i, 0] = refs.create_dataset(f"n{i}", data=np.array([[ord(c)] for c in a.name], np.uint16)).ref
            group = refs.create_group(f"b{i}")
            columns = {"label": [d if d else 10 for d in a.digits], "top": [b.top for b in a.boxes],
                       "left": [b.left for b in a.boxes], "height": [b.height for b in a.boxes],
                       "width": [b.width for b in a.boxes]}
            for key, values in columns.items():
                if len(values) == 1:  # one box: the value itself, as MATLAB writes it
                    group.create_dataset(key, data=np.array([[values[0]]], np.float64))
                else:  # several: references to 1x1 datasets
                    cells = group.create_dataset(key, (len(values), 1), dtype=ref_type)
                    for j, v in enumerate(values):
                        cells[j, 0] = refs.create_dataset(f"b{i}_{key}{j}", data=np.array([[v]], np.float64)).ref
            bboxes[i, 0] = group.ref
