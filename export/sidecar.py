"""Build the model card (edge_app.inference.card.ModelCard) of an exported .tflite, in memory.

Export fills the card as it measures (gate, figures, Edge TPU) and writes it once at the end.
"""

from __future__ import annotations

import json
from pathlib import Path

from edge_app.contract import DETECTOR_STRIDE, EXPAND, INPUT_SIZE, NO_DIGIT, REGION_SIZE
from edge_app.inference.card import Gate, ModelCard, Tensor

SVHN_LICENCE = "trained on SVHN: non-commercial use only (Netzer et al. 2011)"
CLEAN_LICENCE = "trained on synthetic pictures only: no dataset licence restriction"
NOT_MEASURED = Gate.none("not measured yet")  # replaced before the card is written


def describe(input_detail: dict, output_details: list[dict], roles: dict[str, str]) -> tuple[Tensor, dict[str, Tensor]]:
    """The input tensor and the outputs keyed by role (`roles`: output tensor name -> role), from the details."""
    return Tensor.from_detail(input_detail), {roles[d["name"]]: Tensor.from_detail(d) for d in output_details}


def is_clean_synthetic(folder: Path, recorded: dict | None = None) -> bool:
    """True for a train.synth folder made without real SVHN crops, by its synth.json or, for a folder on
    another machine, by the run's record of it (RUN/provenance.json); else assume SVHN."""
    try:
        provenance = json.loads((folder / "synth.json").read_text())
    except (OSError, ValueError):
        provenance = (recorded or {}).get(str(folder))
    return isinstance(provenance, dict) and provenance.get("generator") == "train.synth" \
        and provenance.get("real_digits") is None


def licence(folders: list[str], recorded: dict | None = None) -> str:
    """The licence line for a model trained on these folders: clean only if every one is clean synthetic."""
    uses_svhn = not folders or not all(is_clean_synthetic(Path(f), recorded) for f in folders)
    return SVHN_LICENCE if uses_svhn else CLEAN_LICENCE


def build_card(tflite: Path, variant: str, info, training: dict, calibration: dict | None) -> ModelCard:
    """The reader's card from convert.inspect's `info` of its .tflite; the gate and measured figures come later."""
    inp, outputs = describe(info.input, info.outputs, info.heads)
    return ModelCard(
        kind="reader", file=tflite.name, variant=variant, input=inp, outputs=outputs, gate=NOT_MEASURED,
        preprocessing={
            "region": f"union of the digit boxes (or the ROI, or the detector's box), grown by {EXPAND:.0%} in width "
                      "and height, edge-replicated where it leaves the picture",
            "region_size": REGION_SIZE, "input_size": INPUT_SIZE, "crop": "centre",
            "pixels": "RGB uint8 0..255 as decoded; scaling is inside the model",
        },
        decode={"rule": "argmax over L of log P(L) + sum_{i<=L} log P(digit_i); confidence = exp(score)",
                "no_digit_class": NO_DIGIT, "length_classes": "0..5 digits, 6 = more than 5"},
        training={**training, "licence": licence(training.get("folders") or [], training.get("provenance"))},
        calibration=calibration,
    )


def build_detector_card(tflite: Path, variant: str, info, training: dict, calibration: dict | None) -> ModelCard:
    """The detector's card (kind "detector"); the score threshold and measured figures come later."""
    inp, outputs = describe(info.input, info.outputs, info.heads)
    return ModelCard(
        kind="detector", file=tflite.name, variant=variant, input=inp, outputs=outputs, gate=NOT_MEASURED,
        preprocessing={
            "input_size": [inp.shape[2], inp.shape[1]], "stride": DETECTOR_STRIDE,
            "resize": "whole frame -> edge_app.contract.detector_input (box-reduce, then bilinear)",
            "pixels": "RGB uint8 0..255 as decoded; scaling is inside the model",
        },
        decode={"heatmap": "3x3 local maxima at or above the gate threshold are number centres",
                "box": "(dx, dy) offset in the cell, (w, h) fractions of the input width and height",
                "box_is": "the union of the number's digit boxes"},
        training={**training, "licence": licence(training.get("folders") or [], training.get("provenance"))},
        calibration=calibration,
    )
