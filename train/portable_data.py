"""train.portable's batches: numpy, built on CPU threads while the jitted step runs on the accelerator.

Each batch mixes the folders by weight; batch i of epoch e is seeded by (seed, e, i), so a run is
the same whatever the thread count. Augmentation that needs no labels runs later, inside the step
(train/ops_augment.py); what moves the labels (the detector's zoom) happens here.
"""

from __future__ import annotations

import os

import keras
import numpy as np

from edge_app.contract import HEADS

from .scene_data import encode_all, zoom_in

ZOOM_SHARE = 0.5  # of the detector's training frames zoomed in (scene_data.zoom_in); the rest as drawn


class Mixed(keras.utils.PyDataset):
    """`per_epoch` batches of training rows drawn from the splits by weight."""

    def __init__(self, splits, batch_size: int, per_epoch: int, seed: int):
        # Threads, one a core up to 16: numpy gathers and PIL's resizes release the GIL.
        super().__init__(workers=min(16, os.cpu_count() or 8), max_queue_size=32)
        self.splits = [s for s in splits if s.weight > 0]
        weights = np.array([s.weight for s in self.splits], float)
        self.p = weights / weights.sum()
        self.batch_size, self.per_epoch, self.seed, self.epoch = batch_size, per_epoch, seed, 0

    def __len__(self) -> int:
        return self.per_epoch

    def on_epoch_end(self) -> None:
        self.epoch += 1

    def rows(self, i: int):
        """(rng, [(split, sorted training rows)]) for batch i of this epoch."""
        rng = np.random.default_rng([self.seed, self.epoch, i])
        which = rng.choice(len(self.splits), self.batch_size, p=self.p)
        picks = [(s, np.sort(rng.choice(s.train, int((which == k).sum())))) for k, s in enumerate(self.splits)]
        return rng, [(s, r) for s, r in picks if len(r)]


class RegionBatches(Mixed):
    """The reader's batches: uint8 64x64 regions and the six heads' targets."""

    def __getitem__(self, i: int):
        _, picks = self.rows(i)
        x = np.concatenate([s.crops.regions[r] for s, r in picks])
        y = np.concatenate([s.crops.targets[r] for s, r in picks])
        return x, {name: y[:, j] for j, name in enumerate(HEADS)}


class FrameBatches(Mixed):
    """The detector's batches: uint8 downscaled frames (a share zoomed in) and their heatmap and box targets."""

    def __init__(self, splits, batch_size: int, per_epoch: int, seed: int, zoom: float = ZOOM_SHARE):
        super().__init__(splits, batch_size, per_epoch, seed)
        self.zoom = zoom

    def __getitem__(self, i: int):
        rng, picks = self.rows(i)
        frames, boxes = [], []
        for s, rows in picks:
            for j in rows:
                frame, numbers = s.frames[j], s.boxes[j]
                if rng.random() < self.zoom:
                    frame, numbers = zoom_in(frame, numbers, rng)
                frames.append(frame)
                boxes.append(numbers)
        heat, box = encode_all(boxes)
        return np.stack(frames), {"heatmap": heat, "box": box}
