"""The model card `<name>.json` beside each .tflite: one typed, versioned owner, written by export, read by the app.

A card says what kind of model it describes (a `reader` of numbers or a `detector` of where they are),
its input tensor, the output tensor of each head by name, preprocessing and decode constants, what it
was trained and calibrated on, what was measured, and its gate. numpy and the standard library only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_atomic
from ..contract import DIGIT_CLASSES, HEADS, LENGTH_CLASSES, TTA_VIEWS

FORMAT = "house-numbers-model/2"
KINDS = ("reader", "detector")
DETECTOR_OUTPUTS = ("heatmap", "box")
INPUT_DTYPES = ("uint8", "int8", "float32")
VARIANTS = ("int8", "float", "dynamic")


class ModelError(ValueError):
    """A model file or model card that the edge app cannot run (one line, meant for the user)."""


@dataclass(frozen=True)
class Quantization:
    """real = scale * (q - zero_point); scale 0 means the tensor is not quantised."""

    scale: float = 0.0
    zero_point: int = 0


@dataclass(frozen=True)
class Tensor:
    """One input or output tensor as the interpreter reports it, found again by its name."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    quantization: Quantization = Quantization()

    @classmethod
    def from_detail(cls, detail: dict) -> Tensor:
        """From an interpreter's get_input_details()/get_output_details() entry."""
        scale, zero = detail["quantization"]
        return cls(
            str(detail["name"]),
            tuple(int(v) for v in detail["shape"]),
            np.dtype(detail["dtype"]).name,
            Quantization(float(scale), int(zero)),
        )


@dataclass(frozen=True)
class Gate:
    """The confidence (reader) or box score (detector) a result must reach; None: no gate was measured."""

    threshold: float | None
    basis: str  # what it was measured on and for which target, or why there is none

    @classmethod
    def none(cls, why: str) -> Gate:
        return cls(None, why)


@dataclass(frozen=True)
class SceneGate:
    """--detect's box score and reader gate, tuned together on whole scenes for one reader.

    A reader's own gate is measured on tight labelled crops; a detector's boxes are looser and sometimes on
    things that are not numbers, so the pair is tuned on scenes (scripts/tune_scene_gate.py).
    """

    box_threshold: float
    reader_threshold: float
    reader_sha256: str  # the reader .tflite it was tuned with: another reader keeps its own gate
    basis: str  # the scenes and the precision it was tuned for
    looks: int = 1  # --looks it was tuned with: the box score is the last look's, so it holds only for those
    tta: int = 1  # --tta it was tuned with: averaged views change the reader's confidence


@dataclass
class ModelCard:
    """Everything the edge app needs besides the .tflite itself."""

    kind: str  # "reader" | "detector"
    file: str
    variant: str  # "int8" | "float" | "dynamic"
    input: Tensor
    outputs: dict[str, Tensor]  # head or output name -> its tensor (never by position: converters reorder)
    gate: Gate
    preprocessing: dict[str, Any] = field(default_factory=dict)
    decode: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)  # data, steps, ... and "licence"
    calibration: dict[str, Any] | None = None  # provenance of the representative set (int8 only)
    measured: dict[str, Any] | None = None  # accuracy (reader) or detection figures, with the "data" they came from
    edgetpu: dict[str, Any] | None = None
    scene_gate: SceneGate | None = None  # a detector's, once tuned behind a reader
    sha256: str | None = None  # the model file's, so a card beside another model is refused (older cards: None)
    format: str = FORMAT

    def __post_init__(self):
        self.validate()

    # -- the shapes a card can take ------------------------------------------------------------

    def validate(self) -> None:
        """Raise ModelError (one line) if the card is inconsistent."""
        if self.format != FORMAT:
            raise ModelError(
                f"model card format {self.format!r} is not {FORMAT!r}, the one this app reads; "
                "re-export the model with this version"
            )
        if self.kind not in KINDS:
            raise ModelError(f"model card kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.variant not in VARIANTS:
            raise ModelError(f"model card variant {self.variant!r} is not one of {', '.join(VARIANTS)}")
        if len(self.input.shape) != 4 or self.input.shape[0] != 1 or self.input.shape[3] != 3:
            raise ModelError(f"model card input shape {list(self.input.shape)} is not [1, H, W, 3]")
        if self.input.dtype not in INPUT_DTYPES:
            raise ModelError(f"model card input dtype {self.input.dtype} is not one of {', '.join(INPUT_DTYPES)}")
        want = set(HEADS) if self.kind == "reader" else set(DETECTOR_OUTPUTS)
        if set(self.outputs) != want:
            raise ModelError(f"a {self.kind} card needs outputs {sorted(want)}, this one has {sorted(self.outputs)}")
        if self.kind == "reader":
            for head, t in self.outputs.items():
                size = LENGTH_CLASSES if head == "length" else DIGIT_CLASSES
                if int(np.prod(t.shape)) != size:
                    raise ModelError(f"model card output {head} has shape {list(t.shape)}, not {size} classes")
        t = self.gate.threshold
        if t is not None and not 0.0 <= t <= 1.0:
            raise ModelError(f"model card gate threshold {t} is not in 0..1")
        if not self.gate.basis:
            raise ModelError("model card gate says neither what it was measured on nor why there is none")
        if self.scene_gate is not None:
            g = self.scene_gate
            if self.kind != "detector":
                raise ModelError("model card: only a detector card has a scene gate")
            if not all(0.0 <= t <= 1.0 for t in (g.box_threshold, g.reader_threshold)) or not g.basis:
                raise ModelError(f"model card scene gate {g} needs thresholds in 0..1 and a basis")
            if g.looks not in (1, 2):
                raise ModelError(f"model card scene gate: looks must be 1 or 2, not {g.looks}")
            if not 1 <= g.tta <= len(TTA_VIEWS):
                raise ModelError(f"model card scene gate: tta must be 1..{len(TTA_VIEWS)}, not {g.tta}")
        if not isinstance(self.training.get("licence"), str):
            raise ModelError("model card does not say under which licence its training data may be used")

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) of the input picture."""
        return self.input.shape[2], self.input.shape[1]

    # -- JSON ----------------------------------------------------------------------------------

    def to_json(self) -> str:
        d = asdict(self)
        if d["scene_gate"] is None:  # a reader never has one; a detector has one once tuned
            del d["scene_gate"]
        return json.dumps({"format": d.pop("format"), "kind": d.pop("kind"), **d}, indent=2)

    @classmethod
    def from_json(cls, text: str, source: str = "model card") -> ModelCard:
        """Parse and validate; any problem is a one-line ModelError naming `source`."""
        try:
            d = json.loads(text)
        except ValueError as err:
            raise ModelError(f"{source}: not a readable model card ({err})") from None
        if not isinstance(d, dict):
            raise ModelError(f"{source}: not a model card (a JSON object is expected)")
        if d.get("format") != FORMAT:
            raise ModelError(
                f"{source}: model card format {d.get('format')!r} is not {FORMAT!r}, the one this app "
                "reads; re-export the model (or use the app version it was exported with)"
            )
        try:
            return cls(
                kind=d["kind"],
                file=d["file"],
                variant=d["variant"],
                input=_tensor(d["input"]),
                outputs={k: _tensor(v) for k, v in d["outputs"].items()},
                gate=Gate(
                    None if d["gate"]["threshold"] is None else float(d["gate"]["threshold"]), str(d["gate"]["basis"])
                ),
                preprocessing=dict(d.get("preprocessing") or {}),
                decode=dict(d.get("decode") or {}),
                training=dict(d["training"]),
                calibration=d.get("calibration"),
                measured=d.get("measured"),
                edgetpu=d.get("edgetpu"),
                scene_gate=_scene_gate(d.get("scene_gate")),
                sha256=d.get("sha256"),
                format=d["format"],
            )
        except ModelError as err:
            raise ModelError(f"{source}: {err}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ModelError(
                f"{source}: model card is missing or has a malformed field ({type(err).__name__}: {err})"
            ) from None

    def write(self, path) -> Path:
        """Write the card once, whole or not at all, after checking it again (fields are filled in after init)."""
        self.validate()
        return write_atomic(path, self.to_json())


def _tensor(d: dict) -> Tensor:
    q = d.get("quantization") or {}
    return Tensor(
        str(d["name"]),
        tuple(int(v) for v in d["shape"]),
        str(d["dtype"]),
        Quantization(float(q.get("scale", 0.0)), int(q.get("zero_point", 0))),
    )


def _scene_gate(d: dict | None) -> SceneGate | None:
    if d is None:
        return None
    return SceneGate(float(d["box_threshold"]), float(d["reader_threshold"]), str(d["reader_sha256"]), str(d["basis"]),
                     int(d.get("looks", 1)),  # cards from before the second look were tuned with one
                     int(d.get("tta", 1)))


def file_sha256(path) -> str:
    """A model file's SHA-256, as a scene gate names the reader it was tuned with."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def card_path(model_path) -> Path:
    """foo.tflite -> foo.json; foo_edgetpu.tflite shares foo.json."""
    path = Path(model_path)
    stem = path.stem[: -len("_edgetpu")] if path.stem.endswith("_edgetpu") else path.stem
    return path.with_name(stem + ".json")


def read_card(model_path, kind: str | None = None, flag: str = "--model") -> ModelCard:
    """The card beside a .tflite, validated; with `kind`, a card of the other kind is refused."""
    path = card_path(model_path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ModelError(f"{path} is missing: export writes it beside the .tflite; copy both together") from None
    except OSError as err:
        raise ModelError(f"{path}: cannot read the model card ({err})") from None
    card = ModelCard.from_json(text, source=str(path))
    if kind is not None and card.kind != kind:
        raise ModelError(
            f"{model_path} is a {card.kind}, but {flag} takes a {kind}"
            + (" (pass it with --detector)" if card.kind == "detector" else " (pass it with --model)")
        )
    return card
