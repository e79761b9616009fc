"""Detector data: scene folders as downscaled frames and number boxes, the heatmap/box targets, tf.data batches.

Frames go through the contract's detector_input (the one downscale the app uses too); boxes are kept
in detector-input pixels. numpy only, except train_dataset (tf.data) and the
losses (keras.ops, any backend).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from edge_app.contract import (
    DETECTOR_HEIGHT,
    DETECTOR_STRIDE,
    DETECTOR_WIDTH,
    Box,
    ContractError,
    detector_input,
    load_image,
    union_box,
)
from edge_app.scenes import is_scene_folder, read_scenes

from .cache import DataError
from .folders import parse_data
from .synth.generate import PROVENANCE

GRID = (DETECTOR_HEIGHT // DETECTOR_STRIDE, DETECTOR_WIDTH // DETECTOR_STRIDE)  # (18, 24) cells
SIZE_WEIGHT = 5.0  # box loss: sizes (fractions ~0.05-0.4) count 5x against offsets (0..1)
POSITIVE_WEIGHT = 9.0  # heatmap loss: a centre cell weighs 1 + 9 against a background cell


@dataclass
class SceneSplit:
    """One scene folder: frames (N, 144, 192, 3) uint8, each frame's number boxes in input pixels, and the split."""

    folder: Path
    weight: float
    frames: np.ndarray
    boxes: list[list[Box]]
    train: np.ndarray
    val: np.ndarray

    @property
    def name(self) -> str:
        return f"{self.folder.parent.name}/{self.folder.name}"


def check_scene_data(spec: str) -> None:
    """Refuse a --data spec for the detector unless every folder is a scene folder made without test pictures."""
    for folder, _ in parse_data(spec):
        if not Path(folder).is_dir():
            raise DataError(f"{folder}: no such folder")
        if not is_scene_folder(folder):
            raise DataError(
                f"{folder} holds no scenes.json: the detector trains on whole frames from "
                "python -m train.synth scenes, not on number pictures"
            )
        if evaluation_only(folder):
            raise DataError(
                f"{folder} is made from test pictures (evaluation only, like the dev scenes): "
                "never train or calibrate on it"
            )


def evaluation_only(folder) -> bool:
    """True for scenes whose pasted real pictures come from a test split (synth.json records the folder)."""
    try:
        real = json.loads((Path(folder) / PROVENANCE).read_text()).get("real_digits")
    except (OSError, ValueError, AttributeError):
        return False
    parts = Path(real).parts[-2:] if real else ()
    return any("test" in re.split(r"[^a-z0-9]+", p.lower()) for p in parts)


def load_frames(folder) -> tuple[np.ndarray, list[list[Box]], list[str]]:
    """All frames of a scene folder downscaled to the detector input, their number boxes scaled alike, names."""
    try:
        scenes = read_scenes(folder)
    except ContractError as err:
        raise DataError(str(err)) from None
    frames = np.empty((len(scenes), DETECTOR_HEIGHT, DETECTOR_WIDTH, 3), np.uint8)
    boxes = []
    for i, s in enumerate(scenes):
        try:
            image = load_image(Path(folder) / s.name)
            frames[i] = detector_input(image)
        except ContractError as err:
            raise DataError(str(err)) from None
        sx, sy = DETECTOR_WIDTH / image.shape[1], DETECTOR_HEIGHT / image.shape[0]
        boxes.append([Box(b.left * sx, b.top * sy, b.width * sx, b.height * sy) for b in s.number_boxes()])
    return frames, boxes, [s.name for s in scenes]


def load_scene_splits(spec: str, val_fraction: float, seed: int, val_max: int | None = None) -> list[SceneSplit]:
    """Every scene folder of a --data spec, loaded, with its validation part held out (as folders.load_splits)."""
    check_scene_data(spec)
    splits = []
    for folder, weight in parse_data(spec):
        frames, boxes, _ = load_frames(folder)
        order = np.random.default_rng([seed, len(frames)]).permutation(len(frames))
        n_val = int(round(len(frames) * val_fraction))
        n_val = min(n_val, val_max) if val_max else n_val
        if len(frames) - n_val < 1:
            raise DataError(f"{folder}: {len(frames)} frames leave nothing to train on after the validation split")
        splits.append(SceneSplit(Path(folder), weight, frames, boxes, np.sort(order[n_val:]), np.sort(order[:n_val])))
    if all(s.weight == 0 for s in splits):
        for s in splits:
            s.weight = float(len(s.train))
    return splits


def encode(boxes: list[Box]) -> tuple[np.ndarray, np.ndarray]:
    """Number boxes (input pixels) -> heatmap target (18, 24, 1) and box target (18, 24, 5: dx, dy, w, h, mask)."""
    heat, box = encode_all([boxes])
    return heat[0], box[0]


def encode_all(boxes: list[list[Box]]) -> tuple[np.ndarray, np.ndarray]:
    """encode() for many frames at once: (N, 18, 24, 1), (N, 18, 24, 5).

    Vectorised over frames and numbers: the GPU trainer builds these for every batch on CPU threads.
    """
    gh, gw = GRID
    n, k = len(boxes), max((len(b) for b in boxes), default=0)
    heat = np.zeros((n, gh, gw), np.float64)
    box = np.zeros((n, gh, gw, 5), np.float32)
    if k == 0:
        return heat[..., None].astype(np.float32), box
    b = np.zeros((n, k, 4))
    valid = np.zeros((n, k), bool)
    for i, numbers in enumerate(boxes):
        if numbers:
            b[i, : len(numbers)], valid[i, : len(numbers)] = numbers, True
    left, top, width, height = np.moveaxis(b, -1, 0)
    cx, cy = (left + width / 2) / DETECTOR_STRIDE, (top + height / 2) / DETECTOR_STRIDE
    c, r = np.minimum(np.trunc(cx).astype(int), gw - 1), np.minimum(np.trunc(cy).astype(int), gh - 1)
    # A Gaussian around the centre cell, wider for bigger numbers, never narrower than about a cell.
    sx = np.maximum(0.7, width / DETECTOR_STRIDE / 5)[..., None, None]
    sy = np.maximum(0.7, height / DETECTOR_STRIDE / 5)[..., None, None]
    rows, cols = np.mgrid[0:gh, 0:gw]
    gauss = np.exp(-((cols - c[..., None, None]) ** 2 / (2 * sx**2) + (rows - r[..., None, None]) ** 2 / (2 * sy**2)))
    heat = np.where(valid[..., None, None], gauss, 0.0).max(axis=1)
    for j in range(k):  # in order: a later number in the same cell overwrites an earlier one
        i = np.flatnonzero(valid[:, j])
        box[i, r[i, j], c[i, j]] = np.stack([cx[i, j] - c[i, j], cy[i, j] - r[i, j], width[i, j] / DETECTOR_WIDTH,
                                             height[i, j] / DETECTOR_HEIGHT, np.ones(len(i))], axis=1)
    return heat[..., None].astype(np.float32), box


def train_dataset(splits: list[SceneSplit], batch_size: int, seed: int, start_step: int = 0, augment: bool = True):
    """Endless batches of (uint8 frames (B, 144, 192, 3), {heatmap, box targets}), mixed by weight."""
    import tensorflow as tf

    from .augment import photometric
    from .data import mixed_batches

    live = [s for s in splits if s.weight > 0]
    parts = []
    for s in live:
        heat, box = encode_all([s.boxes[j] for j in s.train])
        parts.append((tf.constant(s.frames[s.train]), {"heatmap": tf.constant(heat), "box": tf.constant(box)}))
    ds = mixed_batches(parts, [s.weight for s in live], batch_size, seed, start_step)

    def prepare(step, batch):
        frames, targets = batch
        if augment:
            frames = photometric(frames, tf.stack([tf.cast(seed, tf.int64), step]))
        return frames, targets

    return ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def heatmap_loss(y_true, y_pred):
    """Cross-entropy against the Gaussian target on every cell, cells near a centre weighted up to 10x; per frame.

    Dense, not CenterNet's focal loss with one positive cell per number: every cell of a number's
    Gaussian pulls, which learns in the few hundred steps a CPU affords (the focal loss had not moved
    after 500). The peak stays at the centre cell, where the box is read. keras.ops: any backend.
    """
    from keras import ops

    p = ops.clip(y_pred, 1e-6, 1 - 1e-6)
    loss = -(y_true * ops.log(p) + (1 - y_true) * ops.log(1 - p)) * (1 + POSITIVE_WEIGHT * y_true)
    # Normalised by the batch's count of numbers (times the batch size: Keras then averages over frames).
    centres = ops.sum(ops.cast(y_true >= 0.999, "float32"))
    scale = ops.cast(ops.shape(y_true)[0], "float32") / ops.maximum(centres, 1.0)
    return ops.sum(loss, axis=(1, 2, 3)) * scale


def box_loss(y_true, y_pred):
    """L1 of (dx, dy, w, h) at the centre cells only (y_true's 5th channel is the mask); per frame."""
    from keras import ops

    mask = y_true[..., 4:5]
    weight = ops.convert_to_tensor([1.0, 1.0, SIZE_WEIGHT, SIZE_WEIGHT])
    loss = ops.sum(ops.abs(y_true[..., :4] - y_pred) * weight * mask, axis=(1, 2, 3))
    return loss * ops.cast(ops.shape(y_true)[0], "float32") / ops.maximum(ops.sum(mask), 1.0)


def found_in(heat: np.ndarray, box: np.ndarray, threshold: float = 0.05) -> list:
    """Per frame, the app's decoding of (N, 18, 24, 1) heatmaps and (N, 18, 24, 4) boxes: detections in input pixels."""
    from edge_app.inference.detector import decode_detections

    return [decode_detections(h, b, (DETECTOR_WIDTH, DETECTOR_HEIGHT), threshold) for h, b in zip(heat, box)]


def zoom_in(frame: np.ndarray, boxes: list[Box], rng: np.random.Generator, most: float = 1.4):
    """A random crop of the frame scaled back to full size (1..most times), its boxes moved alike.

    The crop keeps every number whole; where that cannot be (numbers far apart), the frame is returned
    unchanged: a cut number labelled as a number would teach the boxes that cut digits off.
    """
    h, w = frame.shape[:2]
    s = rng.uniform(1.0, most)
    cw, ch = w / s, h / s
    # the crop's top-left corner may go anywhere that keeps the union of the numbers inside it
    u = union_box(boxes) if boxes else Box(w, h, -w, -h)  # no number: anywhere in the frame
    x0, x1 = max(0.0, u.left + u.width - cw), min(u.left, w - cw)
    y0, y1 = max(0.0, u.top + u.height - ch), min(u.top, h - ch)
    if x0 > x1 or y0 > y1:
        return frame, boxes
    left, top = rng.uniform(x0, x1), rng.uniform(y0, y1)
    crop = Image.fromarray(frame).resize((w, h), Image.BILINEAR, box=(left, top, left + cw, top + ch))
    return np.asarray(crop), [Box((b.left - left) * s, (b.top - top) * s, b.width * s, b.height * s) for b in boxes]
