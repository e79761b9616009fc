"""What export checks of a Keras model: one uint8 input of the contract's shape and the named outputs of its kind.

The same check reads a .keras file's config.json before TensorFlow starts (a wrong file is refused in a
second, not after ten) and the loaded model after it.
"""

from __future__ import annotations

import json
import zipfile
from typing import NamedTuple

from edge_app.contract import DETECTOR_HEIGHT, DETECTOR_WIDTH, HEADS, INPUT_SIZE
from edge_app.inference.card import DETECTOR_OUTPUTS


class ExportError(RuntimeError):
    """A model or calibration set that cannot be exported as asked."""


class Signature(NamedTuple):
    """A model's inputs as (shape without the batch, dtype) and its output names."""

    inputs: list[tuple[tuple, str]]
    outputs: list[str]

    @property
    def kind(self) -> str:
        return "detector" if sorted(self.outputs) == sorted(DETECTOR_OUTPUTS) else "reader"


def signature_of(model) -> Signature:
    """The signature of a loaded Keras model."""
    return Signature([(tuple(i.shape[1:]), str(i.dtype)) for i in model.inputs], list(model.output_names))


def read_signature(path) -> Signature:
    """The signature a .keras file declares in its config.json, read without TensorFlow."""
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))["config"]
        layers = {layer["config"]["name"]: layer["config"] for layer in config["layers"]}
        inputs = config["input_layers"]
        inputs = [inputs] if isinstance(inputs[0], str) else inputs  # one input is saved as [name, 0, 0]
        outputs = config["output_layers"]
        names = list(outputs) if isinstance(outputs, dict) else [o[0] for o in outputs]
        shapes = [(tuple(layers[name]["batch_shape"][1:]), layers[name]["dtype"]) for name, *_ in inputs]
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, TypeError, IndexError) as err:
        why = f"{type(err).__name__}: {err}"[:240]
        raise ExportError(f"{path}: not a Keras model this export can load ({why}); "
                          "give RUN/model.keras from python -m train") from None
    return Signature(shapes, names)


def check_signature(signature: Signature) -> None:
    """Refuse a model that does not follow the contract of its kind."""
    if signature.kind == "detector":
        shape, what = (DETECTOR_HEIGHT, DETECTOR_WIDTH, 3), "detector input"
        tail = f"the contract needs one (None, {DETECTOR_HEIGHT}, {DETECTOR_WIDTH}, 3) uint8 frame"
    else:
        shape, what = (INPUT_SIZE, INPUT_SIZE, 3), "model input"
        tail = f"the contract needs one (None, {INPUT_SIZE}, {INPUT_SIZE}, 3) uint8 input"
    if [(tuple(s), d) for s, d in signature.inputs] != [(shape, "uint8")]:
        got = [((None, *s), d) for s, d in signature.inputs]
        raise ExportError(f"{what} is {got}; {tail}")
    if signature.kind == "reader" and sorted(signature.outputs) != sorted(HEADS):
        raise ExportError(f"model outputs are {signature.outputs}; expected the heads {list(HEADS)} "
                          f"(or a detector's {list(DETECTOR_OUTPUTS)})")
