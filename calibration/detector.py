"""The detector's representative set: whole training frames through the contract's detector_input."""

from __future__ import annotations

import numpy as np

from edge_app.contract import detector_input, load_image
from edge_app.scenes import read_scenes
from train.cache import DataError
from train.folders import parse_data, refuse_test_folders
from train.scene_data import check_scene_data


def build_detector(spec: str, count: int, seed: int = 0) -> tuple[np.ndarray, dict]:
    """Draw `count` frames from the scene folders of `spec`, with and without numbers as they come."""
    folders = [f for f, _ in parse_data(spec)]
    refuse_test_folders(folders, "calibrating")
    check_scene_data(spec)  # scene folders only, and none made from test pictures
    if count < 1:
        raise DataError("--count must be at least 1")
    frames = [(f, s) for f in folders for s in read_scenes(f)]
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.permutation(len(frames))[:count])
    inputs = np.stack([detector_input(load_image(frames[i][0] / frames[i][1].name)) for i in chosen])
    numbers = [len(frames[i][1].numbers) for i in chosen]
    provenance = {
        "kind": "detector",
        "folders": [str(f) for f in folders],
        "count": len(chosen),
        "seed": seed,
        "per_number_count": {str(n): numbers.count(n) for n in sorted(set(numbers))},
        "per_folder": {str(f): sum(frames[i][0] == f for i in chosen) for f in folders},
    }
    return inputs, provenance
