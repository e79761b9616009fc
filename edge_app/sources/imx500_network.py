"""The network on the AI Camera's sensor, apart from the camera: its card (SensorCard, written by export --target
imx500), the outputs it hands over in each frame's metadata (outputs_by_role, SensorOutputs), the reader network's
reading of its region (sensor_reading) and the crop it is pointed at (sensor_roi). numpy only: export, doctor and
the app use it without picamera2."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_atomic
from ..contract import HEADS, INPUT_SIZE, MAX_DIGITS, REGION_SIZE, Box, expand_box
from ..decode import Reading, decode
from ..package import models_dir
from .base import SourceError

FORMAT = "house-numbers-imx500/1"
DEFAULT_CARD = models_dir() / "number_detector_imx500.json"
READER_CARD = models_dir() / "house_numbers_imx500.json"
ROLES = {"detector": ("heatmap", "box"), "reader": HEADS}  # each kind's outputs, in the card by role


@dataclass
class SensorCard:
    """What the app needs to know of a network that runs on the IMX500 (written by export --target imx500)."""

    kind: str  # "detector" (the whole frame) or "reader" (the --roi region)
    file: str  # the packerOut.zip
    network_name: str  # what the sensor reports in each frame's CnnOutputTensorInfo
    input: dict[str, Any]  # {"size": [w, h], "dtype": "uint8", "pixels": ...}
    outputs: list[dict[str, Any]]  # in the converter's order: {"role": "heatmap" | "box" | a head, "shape": [...]}
    twin: dict[str, Any]  # the CPU .tflite it was made from: {"file", "sha256"}; its card's gates and decoding apply
    quantization: dict[str, Any]  # tool, versions, target platform, calibration provenance
    training: dict[str, Any]  # the twin's training data and "licence"
    measured: dict[str, Any] | None = None  # float vs MCT-quantized (dev scenes; labelled pictures for the reader)
    converter: dict[str, Any] = field(default_factory=dict)  # version, memory report, seconds it took
    sha256: str | None = None  # the packerOut.zip's
    format: str = FORMAT

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        if self.format != FORMAT:
            raise SourceError(f"IMX500 card format {self.format!r} is not {FORMAT!r}; re-export it")
        if self.kind not in ROLES:
            raise SourceError(f"IMX500 card kind {self.kind!r}: the sensor runs the detector or the reader")
        if sorted(o.get("role") for o in self.outputs) != sorted(ROLES[self.kind]):
            raise SourceError(f"IMX500 card outputs {[o.get('role') for o in self.outputs]} are not "
                              f"{list(ROLES[self.kind])}")
        if not isinstance(self.training.get("licence"), str):
            raise SourceError("IMX500 card does not say under which licence its training data may be used")

    @property
    def input_size(self) -> tuple[int, int]:
        w, h = self.input["size"]
        return int(w), int(h)

    def to_json(self) -> str:
        d = asdict(self)
        return json.dumps({"format": d.pop("format"), "kind": d.pop("kind"), **d}, indent=2)

    def write(self, path) -> Path:
        self.validate()
        return write_atomic(path, self.to_json())

    @classmethod
    def read(cls, path) -> SensorCard:
        try:
            d = json.loads(Path(path).read_text())
            return cls(**d)
        except FileNotFoundError:
            raise SourceError(f"{path} is missing: export --target imx500 writes it beside the packerOut.zip") from None
        except (OSError, ValueError, TypeError) as err:
            raise SourceError(f"{path}: not an IMX500 card ({type(err).__name__}: {err})") from None


class SensorOutputs(np.ndarray):
    """A frame's `lores` from the AI Camera: the detector's input size (the sensor's own view of the frame is not
    sent), carrying the sensor's dequantised outputs by role in `sensor_outputs`."""

    sensor_outputs: dict[str, np.ndarray] | None = None
    roi: Box | None = None  # the reader's region (main-stream pixels) the sensor read, in the fixed-ROI mode

    @classmethod
    def of(cls, outputs: dict[str, np.ndarray], size: tuple[int, int], roi: Box | None = None) -> SensorOutputs:
        w, h = size
        view = np.broadcast_to(np.zeros(1, np.uint8), (h, w, 3)).view(cls)  # no pixels, no memory
        view.sensor_outputs, view.roi = outputs, roi
        return view


def sensor_reading(lores, roi: Box | None = None) -> Reading | None:
    """The reading the sensor made of `roi` in this frame (a reader network's six heads, joint-decoded as on the
    CPU), or None where it made none: a detector's outputs, no outputs yet, or another region than `roi`."""
    heads = getattr(lores, "sensor_outputs", None)
    if not heads or "length" not in heads or (roi is not None and tuple(lores.roi) != tuple(roi)):
        return None
    return decode(heads["length"], np.stack([heads[f"digit{i + 1}"] for i in range(MAX_DIGITS)]))


def sensor_roi(roi: Box, frame: tuple[int, int], crop: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """--roi in main-stream pixels -> the sensor's inference crop in full-sensor pixels, (x, y, w, h).

    The contract's region (roi grown 30%) narrowed to its centre INPUT_SIZE/REGION_SIZE: the part the CPU reader sees
    after its centre crop; the sensor resizes it to the network's input. `crop` is the ScalerCrop the main stream
    shows (sensor pixels); the crop is kept inside it, since the sensor cannot replicate edge pixels.
    """
    seen = expand_box(expand_box(roi), INPUT_SIZE / REGION_SIZE - 1)
    cx, cy, cw, ch = crop
    sx, sy = cw / frame[0], ch / frame[1]
    x0, y0 = max(cx, cx + seen.left * sx), max(cy, cy + seen.top * sy)
    x1, y1 = min(cx + cw, cx + (seen.left + seen.width) * sx), min(cy + ch, cy + (seen.top + seen.height) * sy)
    if x1 - x0 < 1 or y1 - y0 < 1:
        raise SourceError(f"--roi {','.join(f'{v:g}' for v in roi)} lies outside the {frame[0]}x{frame[1]} frame")
    return round(x0), round(y0), round(x1 - x0), round(y1 - y0)


def outputs_by_role(arrays: list[np.ndarray] | None, card: SensorCard) -> dict[str, np.ndarray] | None:
    """picamera2's IMX500.get_outputs() list -> {"heatmap": (h, w, 1), "box": (h, w, 4)} or {"length": (7,),
    "digit1": (11,), ...} by the card's order, or None while the sensor sends none (its network is still loading).
    Another count or shape is a SourceError."""
    if arrays is None:
        return None
    want = [tuple(o["shape"]) for o in card.outputs]
    got = [_shape(a, len(w)) for a, w in zip(arrays, want)] if len(arrays) == len(want) else \
        [tuple(np.shape(a)) for a in arrays]
    if got != want:
        raise SourceError(f"the AI Camera's network gives outputs {[list(g) for g in got]}, {card.network_name} has "
                          f"{[list(w) for w in want]}: its network.rpk is another model (package "
                          f"{card.file} with imx500-package)")
    return {o["role"]: np.asarray(a, np.float64).reshape(o["shape"]) for o, a in zip(card.outputs, arrays)}


def _shape(array, rank: int) -> tuple[int, ...]:
    """An output's shape without the batch of 1 picamera2 may add (add_batch), compared at the card's rank."""
    shape = tuple(np.shape(array))
    while len(shape) > rank and shape[0] == 1:
        shape = shape[1:]
    return shape


def card_for(rpk: Path) -> SensorCard:
    """The card of the network: `<rpk stem>.json`, the detector's or the reader's card beside the rpk, else the
    shipped detector's."""
    for candidate in (rpk.with_suffix(".json"), rpk.with_name(DEFAULT_CARD.name), rpk.with_name(READER_CARD.name),
                      DEFAULT_CARD):
        if candidate.is_file():
            return SensorCard.read(candidate)
    return SensorCard.read(DEFAULT_CARD)
