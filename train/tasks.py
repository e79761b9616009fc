"""What a run learns, one small class per kind: its data, its losses and its validation metric.

The fit loop (fit.py) is the same for every kind; it asks the task of its architecture
(config.TASK_OF_ARCH) for these pieces. Adding a kind means adding a class here.
"""

from __future__ import annotations

import logging

import numpy as np

from edge_app.contract import HEADS

from .config import TASK_OF_ARCH, TrainConfig


class ReaderTask:
    """Read the number in a 54x54 region: six softmax heads, sequence accuracy."""

    kind = "reader"
    metric = "sequence_accuracy"

    def check_data(self, spec: str) -> None:
        from edge_app.scenes import is_scene_folder

        from .cache import DataError
        from .folders import check_data, parse_data

        check_data(spec, doing="training")
        for folder, _ in parse_data(spec):
            if is_scene_folder(folder):
                raise DataError(f"{folder} holds scenes (whole frames, several numbers each): the reader trains on "
                                "number pictures; train a detector on it with --arch detector")

    def load(self, cfg: TrainConfig) -> list:
        from .folders import load_splits
        from .leaks import seen_validation

        splits = load_splits(cfg.data, cfg.val_fraction, cfg.seed, val_max=cfg.val_max, skip_bad=cfg.skip_bad)
        for line in seen_validation(splits):
            logging.getLogger("train").warning(line)
        return splits

    def losses(self) -> dict:
        import keras

        return {name: keras.losses.SparseCategoricalCrossentropy() for name in HEADS}

    def batches(self, splits, cfg: TrainConfig, start_step: int):
        from .data import train_dataset

        return train_dataset(splits, cfg.batch_size, cfg.seed, start_step=start_step, augment=cfg.augment)

    def validation(self, splits) -> list[tuple[str, np.ndarray, np.ndarray]]:
        from .folders import eval_inputs

        return [(s.name, eval_inputs(s.crops.regions[s.val]), s.crops.targets[s.val]) for s in splits if len(s.val)]

    def score(self, model, inputs: np.ndarray, targets: np.ndarray) -> float:
        from .metrics import score

        probs = predict(model, inputs)
        return score(probs["length"], np.stack([probs[h] for h in HEADS[1:]], 1), targets)["sequence_accuracy"]


class DetectorTask:
    """Find the numbers in a whole frame: CenterNet heatmap + boxes, average precision at IoU 0.5."""

    kind = "detector"
    metric = "ap50"

    def check_data(self, spec: str) -> None:
        from .folders import parse_data, refuse_test_folders
        from .scene_data import check_scene_data

        refuse_test_folders([f for f, _ in parse_data(spec)], "training")
        check_scene_data(spec)

    def load(self, cfg: TrainConfig) -> list:
        from .scene_data import load_scene_splits

        return load_scene_splits(cfg.data, cfg.val_fraction, cfg.seed, val_max=cfg.val_max)

    def losses(self) -> dict:
        from .scene_data import box_loss, heatmap_loss

        return {"heatmap": heatmap_loss, "box": box_loss}

    def batches(self, splits, cfg: TrainConfig, start_step: int):
        from .scene_data import train_dataset

        return train_dataset(splits, cfg.batch_size, cfg.seed, start_step=start_step, augment=cfg.augment)

    def validation(self, splits) -> list[tuple[str, np.ndarray, list]]:
        return [(s.name, s.frames[s.val], [s.boxes[i] for i in s.val]) for s in splits if len(s.val)]

    def score(self, model, frames: np.ndarray, truths: list) -> float:
        from .detection_metrics import report
        from .scene_data import found_in

        out = predict(model, frames, batch=64)
        return report(found_in(out["heatmap"], out["box"]), truths, 0.3)["ap50"]


def predict(model, inputs: np.ndarray, batch: int = 256) -> dict:
    """Every named output by plain batched calls: the same on one device, several, or several workers."""
    parts = [model(inputs[i : i + batch], training=False) for i in range(0, len(inputs), batch)]
    return {k: np.concatenate([np.asarray(p[k], np.float32) for p in parts]) for k in parts[0]}


TASKS = {t.kind: t for t in (ReaderTask(), DetectorTask())}


def task_for(arch: str):
    """The task an architecture learns."""
    return TASKS[TASK_OF_ARCH[arch]]
