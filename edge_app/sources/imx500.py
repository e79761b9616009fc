"""The Raspberry Pi AI Camera (IMX500): `imx500:PATH/network.rpk`, the detector running on the sensor itself.

The sensor runs the network made by `python -m export --target imx500` (packerOut.zip, packaged on the Pi into
network.rpk by `imx500-package`) on every frame and hands the Pi only its outputs in the frame's metadata.
Each Frame's `lores` is then a `SensorOutputs`: the detector's input size, no pixels worth looking at, and the
sensor's heatmap and boxes, which NumberDetector.detect decodes with the same numpy code as its own outputs
(its first look costs the Pi no inference). Second looks and the reader run on the CPU on the main stream.
Without a detector (--roi, --boxes) frames come without lores: the AI Camera is a plain camera there, unless the
network is the reader (export --target imx500 of house_numbers.tflite): then, with --roi, the sensor reads that
region itself (set_inference_roi_abs, the region grown as the contract grows it) and each frame's lores carries
the six heads by the card's order, which `sensor_reading` decodes with the app's own joint decode.

picamera2 (and its `devices.IMX500`) is imported only when this source is opened. The card
`<name>.json` beside the packerOut.zip (SensorCard) says which network it is, its output order and shapes,
how it was quantized and what it scored; a network.rpk whose input or outputs differ from it is refused.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_atomic
from ..contract import HEADS, INPUT_SIZE, MAX_DIGITS, REGION_SIZE, Box, expand_box
from ..decode import Reading, decode
from ..package import models_dir
from .base import SourceError, SourceOptions
from .live import CameraSource, Shot

logger = logging.getLogger("edge_app")

FORMAT = "house-numbers-imx500/1"
DEFAULT_CARD = models_dir() / "number_detector_imx500.json"
READER_CARD = models_dir() / "house_numbers_imx500.json"
ROLES = {"detector": ("heatmap", "box"), "reader": HEADS}  # each kind's outputs, in the card by role
FIRST_OUTPUTS_S = 60.0  # longest wait at opening for the network's first outputs (its firmware upload)


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


class AICamera:
    """An open AI Camera with the network loaded; read() gives the main stream and the sensor's outputs."""

    def __init__(self, rpk: Path, card: SensorCard, options: SourceOptions, roi: Box | None = None) -> None:
        Picamera2, IMX500 = _picamera2_imx500()
        self._card, self._timeout = card, options.timeout
        self._lores = options.lores  # asked for by the app when a detector runs; None with --roi / --boxes
        self._roi = roi if card.kind == "reader" else None  # the region the sensor reads (the reader network)
        self._size = tuple(options.size)
        self._sent: tuple[int, int, int, int] | None = None  # the inference crop the sensor was given
        try:
            self._imx500 = IMX500(str(rpk))  # uploads the network's firmware to the sensor
        except RuntimeError as err:
            raise SourceError(_no_camera(err)) from None
        size = tuple(self._imx500.get_input_size())
        if size != card.input_size:
            raise SourceError(f"{rpk}: its network takes {size[0]}x{size[1]} pictures, {card.network_name} takes "
                              f"{card.input_size[0]}x{card.input_size[1]}: another model (package {card.file} "
                              "with imx500-package)")
        self._cam = Picamera2(self._imx500.camera_num)
        try:
            config = self._cam.create_preview_configuration(main={"size": tuple(options.size), "format": "BGR888"},
                                                            buffer_count=12)
            self._imx500.show_network_fw_progress_bar()  # the upload's progress, on the terminal
            self._cam.configure(config)
            self._cam.start()
        except Exception:
            self._cam.close()
            raise
        self._named = False  # the network's name is checked on the first frame that carries outputs
        self._waiting = True
        self._first: Shot | None = None
        if self._lores is not None or self._roi is not None:  # a wrong network is refused here, at opening (exit 2),
            # not as a lost camera
            try:
                self._first = self._until_outputs(FIRST_OUTPUTS_S)
            except Exception:
                self.close()
                raise

    def _until_outputs(self, seconds: float) -> Shot:
        """Frames until the sensor sends outputs (its network uploaded) or `seconds` pass; the last shot."""
        end = time.monotonic() + seconds
        while True:
            shot = self._shot()
            if shot[1] is not None or time.monotonic() >= end:
                return shot

    def read(self) -> Shot:
        if self._first is not None:
            shot, self._first = self._first, None
            return shot
        return self._shot()

    def _shot(self) -> Shot:
        request = self._cam.wait(self._cam.capture_request(wait=False), timeout=self._timeout)
        try:
            main = np.ascontiguousarray(request.make_array("main")[..., :3])
            metadata = request.get_metadata()
        finally:
            request.release()
        if self._roi is not None and self._sent is None:
            self._send_roi(metadata)
            return main, None  # this frame's outputs came before the crop did: the CPU reads it
        if self._lores is None and self._roi is None:
            return main, None
        outputs = outputs_by_role(self._imx500.get_outputs(metadata), self._card)
        if outputs is None:  # the network is still being uploaded: the CPU detector or reader looks meanwhile
            if self._waiting:
                logger.info("AI Camera: no outputs yet (network firmware still loading); the CPU looks meanwhile")
                self._waiting = False
            return main, None
        if not self._named:
            self._check_name(metadata)
        return main, SensorOutputs.of(outputs, self._lores or self._card.input_size, self._roi)

    def _send_roi(self, metadata: dict) -> None:
        """Point the reader network at the ROI: its crop in sensor pixels, through the main stream's ScalerCrop."""
        crop = metadata.get("ScalerCrop") or self._cam.camera_properties["ScalerCropMaximum"]
        self._sent = sensor_roi(self._roi, self._size, tuple(int(v) for v in crop))
        self._imx500.set_inference_roi_abs(self._sent)
        logger.debug("AI Camera: the sensor reads --roi %s (sensor crop %s)", ",".join(f"{v:g}" for v in self._roi),
                    ",".join(map(str, self._sent)))

    def _check_name(self, metadata: dict) -> None:
        name = network_name(self._imx500, metadata)
        if name is not None and name != self._card.network_name:
            raise SourceError(f"the AI Camera runs network {name!r}, not {self._card.network_name!r}: package "
                              f"{self._card.file} with imx500-package and pass its network.rpk")
        self._named = True

    def close(self) -> None:
        try:
            self._cam.stop()
        finally:
            self._cam.close()


def network_name(imx500, metadata: dict) -> str | None:
    """The network the sensor says it ran (picamera2's parse of CnnOutputTensorInfo), None where it cannot say."""
    parse = getattr(imx500, "_IMX500__get_output_tensor_info", None)
    info = metadata.get("CnnOutputTensorInfo")
    if parse is None or info is None:
        return None
    try:
        return parse(info)["network_name"] or None
    except (ValueError, TypeError, KeyError):
        return None


def _no_camera(err: Exception) -> str:
    text = str(err)
    if "does not exist" in text:
        return f"{text}: give the network.rpk that imx500-package made (docs/imx500.md)"
    return (f"no Raspberry Pi AI Camera (IMX500) found ({text}): check the ribbon cable, `sudo apt install "
            "imx500-all`, and `rpicam-hello --list-cameras`")


def _picamera2_imx500():
    try:
        from picamera2 import Picamera2
        from picamera2.devices import IMX500
    except ImportError as err:
        raise SourceError(f"the AI Camera needs picamera2 with IMX500 support ({err}): sudo apt install "
                          "python3-picamera2 imx500-all, and create the venv with --system-site-packages") from None
    return Picamera2, IMX500


def network_path(spec: str) -> Path:
    """`imx500:PATH` -> the network.rpk; the bare `imx500` names none (the rpk is made on the Pi, not shipped)."""
    _, _, path = spec.partition(":")
    if not path:
        raise SourceError("imx500: give the network: --source imx500:DIR/network.rpk (made on the Pi by "
                          "imx500-package -i models/number_detector_imx500_packerOut.zip -o DIR; docs/imx500.md)")
    return Path(path).expanduser()


def card_for(rpk: Path) -> SensorCard:
    """The card of the network: `<rpk stem>.json`, the detector's or the reader's card beside the rpk, else the
    shipped detector's."""
    for candidate in (rpk.with_suffix(".json"), rpk.with_name(DEFAULT_CARD.name), rpk.with_name(READER_CARD.name),
                      DEFAULT_CARD):
        if candidate.is_file():
            return SensorCard.read(candidate)
    return SensorCard.read(DEFAULT_CARD)


def open_imx500(spec: str, options: SourceOptions) -> CameraSource:
    rpk = network_path(spec)
    if not rpk.is_file():
        raise SourceError(f"{rpk}: no such network file; make it on the Pi with imx500-package -i "
                          f"models/number_detector_imx500_packerOut.zip -o {rpk.parent} (docs/imx500.md)")
    card = card_for(rpk)
    roi = getattr(options, "roi", None)  # the app's --roi, where its SourceOptions carries it
    if card.kind == "reader" and not hasattr(options, "roi"):  # an app that cannot say its ROI: a plain camera
        logger.warning("AI Camera: this edge_app does not hand --roi to its sources; the CPU reads, not the sensor")
    elif card.kind == "reader" and roi is None:
        raise SourceError(f"{rpk}: its network {card.network_name} is the reader, which reads one fixed region: give "
                          "--roi x,y,w,h, or package models/number_detector_imx500_packerOut.zip to find numbers")
    if card.kind == "detector" and options.lores is not None and tuple(options.lores) != card.input_size:
        raise SourceError(f"--lores {options.lores[0]}x{options.lores[1]}: the AI Camera's network looks at "
                          f"{card.input_size[0]}x{card.input_size[1]}; leave --lores out")
    _picamera2_imx500()  # a missing picamera2 is a set-up problem: say so now, not as a lost camera
    return CameraSource(spec, lambda: AICamera(rpk, card, options, roi), options)
