"""Preprocessed cache of a labelled folder: the 64x64 digit regions and six-head targets, built once.

A cache lives in its own folder (the data folder may be read-only) and is used only when its
manifest, written last, matches the source folder's fingerprint: a partial or stale cache is never read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edge_app.annotations import annotation_file, read_annotations
from edge_app.contract import EXPAND, REGION_SIZE, ContractError, crop_region, digit_region, encode_label, load_image

CACHE_VERSION = 1  # bump when the contract or the cache layout changes


class DataError(ValueError):
    """A data folder that cannot be turned into training or evaluation data."""


@dataclass
class Crops:
    """A folder's cached regions (N, 64, 64, 3) uint8, targets (N, 6) and picture names."""

    folder: Path
    regions: np.ndarray
    targets: np.ndarray
    names: list[str]

    def __len__(self) -> int:
        return len(self.names)


def default_cache_root() -> Path:
    """$HOUSE_NUMBERS_CACHE, else ~/.cache/house-numbers."""
    return Path(os.environ.get("HOUSE_NUMBERS_CACHE", Path.home() / ".cache" / "house-numbers"))


def cache_dir(folder: Path, cache_root: Path | None = None) -> Path:
    """Where the cache of a folder lives: one subfolder per absolute source path."""
    folder = Path(folder).resolve()
    key = hashlib.sha1(str(folder).encode()).hexdigest()[:12]
    return (cache_root or default_cache_root()) / f"{folder.name}-{key}"


def fingerprint(folder: Path) -> dict:
    """What the cache depends on: the label file, every picture's size and time, and the contract."""
    labels = annotation_file(folder)
    h = hashlib.sha1()
    # Stat the pictures rather than parse the labels: a fresh check of 33k pictures takes a second.
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.is_file() and entry.name != labels.name:
            st = entry.stat()
            h.update(f"{entry.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    st = labels.stat()
    return {
        "version": CACHE_VERSION,
        "source": str(Path(folder).resolve()),
        "labels": f"{labels.name}:{st.st_size}:{st.st_mtime_ns}",
        "files": h.hexdigest(),
        "region_size": REGION_SIZE,
        "expand": EXPAND,
    }


def load_crops(folder, cache_root: Path | None = None, *, skip_bad: bool = False, quiet: bool = False) -> Crops:
    """The cached crops of a labelled folder, (re)built first when missing, partial or stale."""
    folder = Path(folder)
    try:
        fp = fingerprint(folder)
    except (ContractError, OSError) as err:
        raise DataError(str(err)) from None
    where = cache_dir(folder, cache_root)
    manifest = _read_manifest(where)
    if manifest is None or manifest.get("fingerprint") != fp:
        manifest = build_cache(folder, where, fp, skip_bad=skip_bad, quiet=quiet)
    regions = np.load(where / "regions.npy", mmap_mode="r")
    targets = np.load(where / "targets.npy")
    if len(regions) != manifest["count"] or len(targets) != manifest["count"]:
        raise DataError(f"{where}: cache does not match its manifest; delete the folder and rerun")
    return Crops(folder, regions, targets, manifest["names"])


def build_cache(folder: Path, where: Path, fp: dict, *, skip_bad: bool = False, quiet: bool = False) -> dict:
    """Preprocess every labelled picture through the contract into a new cache folder; returns its manifest."""
    annotations = read_annotations(folder)
    if not annotations:
        raise DataError(f"{folder}: no labelled pictures")
    tmp = where.with_name(where.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    regions = np.lib.format.open_memmap(tmp / "regions.npy", "w+", np.uint8, (len(annotations), REGION_SIZE, REGION_SIZE, 3))
    targets, names, skipped = [], [], []
    start = time.perf_counter()
    for a in tqdm(annotations, desc=f"caching {folder.name}", unit="img", disable=quiet, leave=False):
        try:
            region = crop_region(load_image(folder / a.name), digit_region(a.boxes))
        except ContractError as err:
            if not skip_bad:
                shutil.rmtree(tmp, ignore_errors=True)
                raise DataError(f"{_where(folder / a.name, err)}; fix or remove it (python -m train --skip-bad leaves such pictures out)") from None
            skipped.append(_where(folder / a.name, err))
            continue
        regions[len(names)] = region
        targets.append(encode_label(a.digits))
        names.append(a.name)
    if not names:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataError(f"{folder}: none of its {len(annotations)} pictures could be read")
    regions.flush()
    del regions
    if skipped:  # shrink the memmap to the pictures kept
        kept = np.load(tmp / "regions.npy", mmap_mode="r")[: len(names)].copy()
        np.save(tmp / "regions.npy", kept)
    np.save(tmp / "targets.npy", np.stack(targets).astype(np.int64))
    seconds = time.perf_counter() - start
    manifest = {"fingerprint": fp, "count": len(names), "names": names, "skipped": skipped,
                "build_seconds": round(seconds, 2), "images_per_second": round(len(annotations) / seconds, 1)}
    (tmp / "manifest.json").write_text(json.dumps(manifest))  # written last: marks the cache complete
    shutil.rmtree(where, ignore_errors=True)
    os.replace(tmp, where)
    if not quiet:
        print(f"cached {len(names)} pictures of {folder} in {seconds:.1f} s ({manifest['images_per_second']} img/s)"
              + (f", skipped {len(skipped)}" if skipped else ""))
    return manifest


def _where(path: Path, err: Exception) -> str:
    return str(err) if str(path) in str(err) else f"{path}: {err}"


def _read_manifest(where: Path) -> dict | None:
    try:
        return json.loads((where / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
