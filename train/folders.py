"""Training folders: `--data synth:0.7,../shared/data/svhn/recon/train:0.3` parsed, loaded and split.

A validation split is held out from every training folder (never from test data), reproducibly
from the seed. numpy only, so calibration and evaluation use it without TensorFlow.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_app.annotations import annotation_file
from edge_app.atomic import write_atomic
from edge_app.contract import INPUT_SIZE, ContractError, center_crop

from .cache import Crops, DataError, load_crops


@dataclass
class Split:
    """One folder's crops, split into training and validation indices."""

    crops: Crops
    weight: float
    train: np.ndarray
    val: np.ndarray

    @property
    def name(self) -> str:
        return f"{self.crops.folder.parent.name}/{self.crops.folder.name}"


def parse_data(spec: str) -> list[tuple[Path, float]]:
    """'DIR[:W],DIR[:W]' -> [(folder, weight)]; weights default to each folder's share of the pictures."""
    out = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        path, _, weight = part.rpartition(":") if ":" in part else (part, "", "")
        try:
            w = float(weight) if weight else 0.0
        except ValueError:
            raise DataError(f"bad weight in --data {part!r}: expected DIR or DIR:WEIGHT") from None
        if w < 0:
            raise DataError(f"negative weight in --data {part!r}")
        out.append((Path(path), w))
    if not out:
        raise DataError("--data names no folder")
    return out


def is_test_folder(folder: Path) -> bool:
    """True for a test split (recon/test, format2_test_dev, SVHN test/): learning from it would leak it."""
    return "test" in re.split(r"[^a-z0-9]+", Path(folder).resolve().name.lower())


def refuse_test_folders(folders, doing: str) -> None:
    """DataError if any folder is a test split: `doing` says what would leak it ('training', 'calibrating')."""
    for f in folders:
        if is_test_folder(f):
            raise DataError(f"{f} is a test split: {doing} on test data leaks it into the model; "
                            "use training data (e.g. recon/train or synthetic pictures)")


def check_data(spec: str, doing: str | None = None) -> None:
    """Refuse a --data spec whose folders are missing, unlabelled (or test splits, when `doing` is given)."""
    folders = [f for f, _ in parse_data(spec)]
    if doing:
        refuse_test_folders(folders, doing)
    for folder in folders:
        try:
            annotation_file(folder)
        except ContractError as err:
            raise DataError(str(err)) from None


def load_splits(spec: str, val_fraction: float, seed: int, cache_root: Path | None = None,
                val_max: int | None = None, skip_bad: bool = False) -> list[Split]:
    """Load (building caches as needed) every folder of a --data spec and hold out its validation part.

    Each folder gives val_fraction of its pictures to validation, at most val_max (a big synthetic
    folder needs no 20,000-picture validation set, a small real one needs every picture it can spare).
    """
    splits = []
    for folder, weight in parse_data(spec):
        crops = load_crops(folder, cache_root, skip_bad=skip_bad)
        train, val = split_indices(len(crops), val_fraction, seed, val_max)
        if not len(train):
            raise DataError(f"{folder}: {len(crops)} pictures leave nothing to train on after the validation split")
        splits.append(Split(crops, weight, train, val))
    if all(s.weight == 0 for s in splits):
        for s in splits:
            s.weight = float(len(s.train))
    return splits


PROVENANCE = "provenance.json"  # in a run folder: what each training folder was, for the licence


def record_provenance(spec: str, run: Path) -> None:
    """Write RUN/provenance.json: each --data folder's synth.json (None for real pictures).

    Export decides the licence from it when the folders themselves are on another machine.
    """
    record = {str(folder): synth_record(folder) for folder, _ in parse_data(spec)}
    write_atomic(Path(run) / PROVENANCE, json.dumps(record, indent=2))


def synth_record(folder: Path) -> dict | None:
    """A train.synth folder's record of how it was made (synth.json); None for real pictures."""
    try:
        return json.loads((Path(folder) / "synth.json").read_text())
    except (OSError, ValueError):
        return None


def split_indices(n: int, val_fraction: float, seed: int, val_max: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sorted training and validation positions of a folder of n pictures: a function of n and the seed alone."""
    order = np.random.default_rng([seed, n]).permutation(n)
    n_val = int(round(n * val_fraction))
    n_val = min(n_val, val_max) if val_max else n_val
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def data_splits(cfg) -> list[Split]:
    """A run's folders with their training and validation parts, exactly as `python -m train` split them."""
    return load_splits(cfg.data, cfg.val_fraction, cfg.seed, val_max=cfg.val_max, skip_bad=cfg.skip_bad)


def validation_split(cfg) -> tuple[np.ndarray, np.ndarray]:
    """A run's validation inputs (N, 54, 54, 3) and targets (N, 6), all folders together."""
    splits = data_splits(cfg)
    inputs = [eval_inputs(np.asarray(s.crops.regions[s.val])) for s in splits]
    targets = [s.crops.targets[s.val] for s in splits]
    return np.concatenate(inputs), np.concatenate(targets)


def eval_inputs(regions: np.ndarray) -> np.ndarray:
    """Cached 64x64 regions -> the contract's centre 54x54 crops, (N, 54, 54, 3) uint8."""
    if not len(regions):
        return np.zeros((0, INPUT_SIZE, INPUT_SIZE, 3), np.uint8)
    return np.stack([center_crop(r) for r in regions])
