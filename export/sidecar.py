"""The model card `<name>.json` beside each .tflite: everything the edge app needs besides the model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edge_app.atomic import write_atomic
from edge_app.contract import DIGIT_CLASSES, EXPAND, INPUT_SIZE, LENGTH_CLASSES, NO_DIGIT, REGION_SIZE

FORMAT = "house-numbers-model/1"
SVHN_LICENCE = "trained on SVHN: non-commercial use only (Netzer et al. 2011)"
CLEAN_LICENCE = "trained on synthetic pictures only: no dataset licence restriction"


def describe(info) -> tuple[dict, dict]:
    """The input and outputs of a .tflite (convert.Inspection) as the sidecar records them (keyed by tensor name)."""
    inp = info.input
    outputs = {}
    for d in info.outputs:
        head = info.heads[d["name"]]
        outputs[d["name"]] = {"head": head, "classes": LENGTH_CLASSES if head == "length" else DIGIT_CLASSES,
                              **_tensor(d)}
    return {"name": inp["name"], "shape": [int(v) for v in inp["shape"]], **_tensor(inp)}, outputs


def _tensor(d: dict) -> dict:
    scale, zero = d["quantization"]
    return {"dtype": np.dtype(d["dtype"]).name, "quantization": {"scale": float(scale), "zero_point": int(zero)}}


def is_clean_synthetic(folder: Path) -> bool:
    """True for a train.synth folder made without real SVHN crops (its synth.json says so); else assume SVHN."""
    try:
        provenance = json.loads((folder / "synth.json").read_text())
    except (OSError, ValueError):
        return False
    return provenance.get("generator") == "train.synth" and provenance.get("real_digits") is None


def build_card(tflite: Path, variant: str, info, training: dict, calibration: dict | None) -> dict:
    """Assemble the sidecar from convert.inspect's `info`; accuracy and threshold are filled in once measured."""
    inp, outputs = describe(info)
    folders = training.get("folders") or []
    uses_svhn = not folders or not all(is_clean_synthetic(Path(f)) for f in folders)
    return {
        "format": FORMAT,
        "file": tflite.name,
        "variant": variant,
        "input": inp,
        "outputs": outputs,
        "preprocessing": {
            "region": f"union of the digit boxes (or the ROI), grown by {EXPAND:.0%} in width and height, "
                      "edge-replicated where it leaves the picture",
            "region_size": REGION_SIZE, "input_size": INPUT_SIZE, "crop": "centre",
            "pixels": "RGB uint8 0..255 as decoded; scaling is inside the model",
        },
        "decode": {"rule": "argmax over L of log P(L) + sum_{i<=L} log P(digit_i); confidence = exp(score)",
                   "no_digit_class": NO_DIGIT, "length_classes": "0..5 digits, 6 = more than 5"},
        "training": {**training, "licence": SVHN_LICENCE if uses_svhn else CLEAN_LICENCE},
        "calibration": calibration,
        "accuracy": None,
        "threshold_at_98": None,
    }


def write_card(path: Path, card: dict) -> None:
    """Write the sidecar JSON via a temp file and rename."""
    write_atomic(path, json.dumps(card, indent=2))
