"""tf.data input: batches mixed from several folders by weight, augmented on the fly."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from edge_app.contract import HEADS

from .augment import augment_batch
from .cache import DataError
from .folders import Split


def targets_dict(targets) -> dict:
    """(B, 6) targets -> {head name: (B,)}: losses are keyed by head name, never by position."""
    return {name: targets[:, i] for i, name in enumerate(HEADS)}


def mixed_batches(parts: list[tuple], weights: list[float], batch_size: int, seed: int, start_step: int = 0):
    """Endless (step, batch) pairs drawn from `parts` (one tuple of equal-length tensors per folder) by weight."""
    streams = []
    for i, tensors in enumerate(parts):
        n = int(tensors[0].shape[0])
        # Shuffle indices, not pictures: the buffer holds ints, whatever the folder's size.
        ds = tf.data.Dataset.range(n).shuffle(n, seed=seed + 1000 * i + start_step).repeat()
        streams.append(ds.map(lambda j, t=tensors: tf.nest.map_structure(lambda x: tf.gather(x, j), t)))
    if not streams:
        raise DataError("every --data folder has weight 0")
    total = sum(weights)
    ds = tf.data.Dataset.sample_from_datasets(streams, [w / total for w in weights], seed=seed + start_step)
    return ds.batch(batch_size, drop_remainder=True).enumerate(start=start_step)


def train_dataset(splits: list[Split], batch_size: int, seed: int, start_step: int = 0, augment: bool = True):
    """Endless batches of (uint8 pixels (B, 54, 54, 3), {head: (B,)}), mixed by weight and augmented."""
    live = [s for s in splits if s.weight > 0]
    parts = [(tf.constant(np.asarray(s.crops.regions[s.train])), tf.constant(s.crops.targets[s.train])) for s in live]
    ds = mixed_batches(parts, [s.weight for s in live], batch_size, seed, start_step)

    def prepare(step, batch):
        regions, targets = batch
        seeds = tf.stack([tf.cast(seed, tf.int64), step])
        return augment_batch(regions, seeds, photometric=augment), targets_dict(targets)

    return ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
