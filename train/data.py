"""tf.data input: cached crops from one or several folders, mixed by weight, augmented on the fly.

`--data synth:0.7,../shared/data/svhn/recon/train:0.3` mixes two folders 70/30. A validation split is
held out from every training folder (never from test data), reproducibly from the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from edge_app.contract import HEADS, INPUT_SIZE, center_crop

from .augment import augment_batch
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


def load_splits(spec: str, val_fraction: float, seed: int, cache_root: Path | None = None) -> list[Split]:
    """Load (building caches as needed) every folder of a --data spec and hold out its validation part."""
    splits = []
    for folder, weight in parse_data(spec):
        crops = load_crops(folder, cache_root)
        order = np.random.default_rng([seed, len(crops)]).permutation(len(crops))
        n_val = int(round(len(crops) * val_fraction))
        if len(crops) - n_val < 1:
            raise DataError(f"{folder}: {len(crops)} pictures leave nothing to train on after the validation split")
        splits.append(Split(crops, weight, np.sort(order[n_val:]), np.sort(order[:n_val])))
    if all(s.weight == 0 for s in splits):
        for s in splits:
            s.weight = float(len(s.train))
    return splits


def targets_dict(targets) -> dict:
    """(B, 6) targets -> {head name: (B,)}: losses are keyed by head name, never by position."""
    return {name: targets[:, i] for i, name in enumerate(HEADS)}


def train_dataset(splits: list[Split], batch_size: int, seed: int, start_step: int = 0, augment: bool = True):
    """Endless batches of (uint8 pixels (B, 54, 54, 3), {head: (B,)}), mixed by weight and augmented."""
    parts, weights = [], []
    for i, s in enumerate(splits):
        if s.weight <= 0:
            continue
        regions = tf.constant(np.asarray(s.crops.regions[s.train]))
        targets = tf.constant(s.crops.targets[s.train])
        # Shuffle indices, not pictures: the buffer holds ints, whatever the folder's size.
        ds = tf.data.Dataset.range(len(s.train)).shuffle(len(s.train), seed=seed + 1000 * i + start_step).repeat()
        parts.append(ds.map(lambda j, r=regions, t=targets: (tf.gather(r, j), tf.gather(t, j))))
        weights.append(s.weight)
    if not parts:
        raise DataError("every --data folder has weight 0")
    total = sum(weights)
    ds = tf.data.Dataset.sample_from_datasets(parts, [w / total for w in weights], seed=seed + start_step)
    ds = ds.batch(batch_size, drop_remainder=True).enumerate(start=start_step)

    def prepare(step, batch):
        regions, targets = batch
        seeds = tf.stack([tf.cast(seed, tf.int64), step])
        return augment_batch(regions, seeds, photometric=augment), targets_dict(targets)

    return ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def eval_inputs(regions: np.ndarray) -> np.ndarray:
    """Cached 64x64 regions -> the contract's centre 54x54 crops, (N, 54, 54, 3) uint8."""
    return np.stack([center_crop(r) for r in regions]) if len(regions) else np.zeros((0, INPUT_SIZE, INPUT_SIZE, 3), np.uint8)
