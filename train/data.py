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
