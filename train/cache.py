"""Preprocessed cache of a labelled folder: the 64x64 digit regions and six-head targets, built once.

A cache lives in its own folder (the data folder may be read-only) and is used only when its
manifest, written last, matches the source folder's fingerprint: a partial or stale cache is never read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edge_app.annotations import annotation_file, read_labels
from edge_app.atomic import write_atomic
from edge_app.contract import EXPAND, REGION_SIZE, ContractError, crop_region, digit_region, encode_label, load_image

CACHE_VERSION = 2  # bump when the contract or the cache layout changes (2: 16-bit pictures scaled, EXIF turned)
SKIP_HINT = "fix or remove it (--skip-bad leaves such pictures out)"
log = logging.getLogger("train.cache")


class DataError(ValueError):
    """A data folder that cannot be turned into training or evaluation data."""


@dataclass
class Crops:
    """A folder's cached regions (N, 64, 64, 3) uint8, targets (N, 6), picture names and pictures left out."""

    folder: Path
    regions: np.ndarray
    targets: np.ndarray
    names: list[str]
    skipped: list[str] = field(default_factory=list)

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
    return Crops(folder, regions, targets, manifest["names"], manifest.get("skipped", []))


def build_cache(folder: Path, where: Path, fp: dict, *, skip_bad: bool = False, quiet: bool = False) -> dict:
    """Preprocess every labelled picture through the contract into a new cache folder; returns its manifest.

    A picture that cannot be read, or whose label is bad, stops the build with one line naming it,
    or with skip_bad is left out, logged and listed in the manifest's `skipped`.
    """
    try:
        labels = read_labels(folder)
    except ContractError as err:
        raise DataError(str(err)) from None
    if labels.bad and not skip_bad:
        raise DataError(f"{next(iter(labels.bad.values()))}; {SKIP_HINT}")
    annotations, skipped = labels.annotations, list(labels.bad.values())
    if not annotations and not skipped:
        raise DataError(f"{folder}: no labelled pictures")
    tmp = where.with_name(where.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        manifest = _build(folder, tmp, fp, annotations, skipped, skip_bad, quiet)
        shutil.rmtree(where, ignore_errors=True)
        os.replace(tmp, where)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # a failed or interrupted build leaves nothing behind
    for line in skipped[:5]:
        log.warning("skipped %s", line)
    if len(skipped) > 5:
        log.warning("skipped %d more pictures of %s (listed in %s)", len(skipped) - 5, folder, where / "manifest.json")
    log.info("cached %d pictures of %s in %.1f s (%s img/s)%s", manifest["count"], folder, manifest["build_seconds"],
             manifest["images_per_second"], f", skipped {len(skipped)}" if skipped else "")
    return manifest


def _build(folder: Path, tmp: Path, fp: dict, annotations, skipped: list[str], skip_bad: bool, quiet: bool) -> dict:
    shape = (max(len(annotations), 1), REGION_SIZE, REGION_SIZE, 3)
    regions = np.lib.format.open_memmap(tmp / "regions.npy", "w+", np.uint8, shape)
    targets, names = [], []
    start = time.perf_counter()
    for a in tqdm(annotations, desc=f"caching {folder.name}", unit="img", disable=quiet, leave=False):
        try:
            region = crop_region(load_image(folder / a.name), digit_region(a.boxes))
        except ContractError as err:
            if not skip_bad:
                raise DataError(f"{_where(folder / a.name, err)}; {SKIP_HINT}") from None
            skipped.append(_where(folder / a.name, err))
            continue
        regions[len(names)] = region
        targets.append(encode_label(a.digits))
        names.append(a.name)
    if not names:
        raise DataError(f"{folder}: none of its {len(annotations) + len(skipped)} pictures could be read")
    regions.flush()
    del regions
    if len(names) < shape[0]:  # shrink the memmap to the pictures kept
        kept = np.load(tmp / "regions.npy", mmap_mode="r")[: len(names)].copy()
        np.save(tmp / "regions.npy", kept)
    np.save(tmp / "targets.npy", np.stack(targets).astype(np.int64))
    seconds = max(time.perf_counter() - start, 1e-9)
    manifest = {"fingerprint": fp, "count": len(names), "names": names, "skipped": skipped,
                "build_seconds": round(seconds, 2), "images_per_second": round(len(annotations) / seconds, 1)}
    write_atomic(tmp / "manifest.json", json.dumps(manifest))  # written last: marks the cache complete
    return manifest


def _where(path: Path, err: Exception) -> str:
    return str(err) if str(path) in str(err) else f"{path}: {err}"


def _read_manifest(where: Path) -> dict | None:
    try:
        return json.loads((where / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
