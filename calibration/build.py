"""The representative set for int8 calibration: centre crops through the contract, stratified by length.

(The detector's set of whole frames is built by detector.py; both are saved and loaded here.)
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from edge_app.atomic import write_atomic
from edge_app.contract import DETECTOR_HEIGHT, DETECTOR_WIDTH, INPUT_SIZE
from edge_app.scenes import is_scene_folder
from train.cache import DataError, load_crops
from train.folders import eval_inputs, parse_data, refuse_test_folders


def build(spec: str, count: int, seed: int = 0, skip_bad: bool = False) -> tuple[np.ndarray, dict]:
    """Draw `count` inputs from the folders of `spec`, about evenly over the number lengths present."""
    folders = [f for f, _ in parse_data(spec)]
    refuse_test_folders(folders, "calibrating")
    for f in folders:
        if is_scene_folder(f):
            raise DataError(f"{f} holds scenes (whole frames): they calibrate a detector (--kind detector), "
                            "not a reader")
    if count < 1:
        raise DataError("--count must be at least 1")
    crops = [load_crops(f, skip_bad=skip_bad) for f in folders]
    regions = np.concatenate([np.asarray(c.regions) for c in crops])
    targets = np.concatenate([c.targets for c in crops])
    source = np.concatenate([np.full(len(c), i) for i, c in enumerate(crops)])
    rng = np.random.default_rng(seed)
    lengths = targets[:, 0]
    # Even shares per length, the remainder filled from the largest lengths: long numbers are rare
    # in SVHN, and their activations (more digits, wider regions) must be in the calibrated ranges too.
    chosen = []
    groups = {n: rng.permutation(np.nonzero(lengths == n)[0]) for n in np.unique(lengths)}
    share = count // len(groups)
    for idx in groups.values():
        chosen.extend(idx[:share])
    rest = np.setdiff1d(rng.permutation(len(targets)), chosen)
    chosen = np.array(chosen + list(rng.permutation(rest)[: count - len(chosen)]), dtype=int)
    inputs = eval_inputs(regions[chosen])
    provenance = {
        "kind": "reader",
        "folders": [str(f) for f in folders],
        "count": int(len(chosen)),
        "seed": seed,
        "per_length": {str(n): int((lengths[chosen] == n).sum()) for n in np.unique(lengths[chosen])},
        "per_folder": {str(f): int((source[chosen] == i).sum()) for i, f in enumerate(folders)},
    }
    return inputs, provenance


def save(path: Path, inputs: np.ndarray, provenance: dict) -> None:
    """Write calib.npz (inputs uint8 (N, 54, 54, 3) + provenance JSON) via a temp file and rename."""
    buf = io.BytesIO()
    np.savez_compressed(buf, inputs=inputs, provenance=np.array(json.dumps(provenance)))
    write_atomic(path, buf.getvalue())


SHAPES = {"reader": (INPUT_SIZE, INPUT_SIZE, 3), "detector": (DETECTOR_HEIGHT, DETECTOR_WIDTH, 3)}


def load(path, kind: str | None = None) -> tuple[np.ndarray, dict]:
    """Read calib.npz; raises DataError if it is not a representative set (of `kind`, when given)."""
    try:
        with np.load(path) as f:
            inputs, provenance = f["inputs"], json.loads(str(f["provenance"]))
    except (OSError, KeyError, ValueError) as err:
        raise DataError(f"{path}: not a calibration file from python -m calibration ({err})") from None
    found = provenance.get("kind", "reader")  # files from before the detector are reader sets
    if kind is not None and found != kind:
        raise DataError(f"{path} calibrates a {found}, but the model is a {kind}; "
                        f"build one with python -m calibration --kind {kind}")
    h, w, c = SHAPES.get(found, SHAPES["reader"])
    if inputs.ndim != 4 or inputs.shape[1:] != (h, w, c) or inputs.dtype != np.uint8 or len(inputs) == 0:
        raise DataError(f"{path}: holds {inputs.shape} {inputs.dtype}, expected N x {h} x {w} x {c} uint8 with N > 0")
    return inputs, provenance
