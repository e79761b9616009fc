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

picamera2 (and its `devices.IMX500`) is imported only when this source is opened. The card `<name>.json` beside
the packerOut.zip (SensorCard, in imx500_network.py with the outputs' decoding) says which network it is, its
output order and shapes, how it was quantized and what it scored; a network.rpk whose input or outputs differ
from it is refused.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from ..contract import Box
from .base import SourceError, SourceOptions
from .imx500_network import SensorCard, SensorOutputs, card_for, outputs_by_role, sensor_roi
from .live import CameraSource, Shot

logger = logging.getLogger("edge_app")

FIRST_OUTPUTS_S = 60.0  # longest wait at opening for the network's first outputs (its firmware upload)


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


def open_imx500(spec: str, options: SourceOptions) -> CameraSource:
    rpk = network_path(spec)
    if not rpk.is_file():
        raise SourceError(f"{rpk}: no such network file; make it on the Pi with imx500-package -i "
                          f"models/number_detector_imx500_packerOut.zip -o {rpk.parent} (docs/imx500.md)")
    card = card_for(rpk)
    roi = options.roi
    if card.kind == "reader" and roi is None:
        raise SourceError(f"{rpk}: its network {card.network_name} is the reader, which reads one fixed region: give "
                          "--roi x,y,w,h, or package models/number_detector_imx500_packerOut.zip to find numbers")
    if card.kind == "detector" and options.lores is not None and tuple(options.lores) != card.input_size:
        raise SourceError(f"--lores {options.lores[0]}x{options.lores[1]}: the AI Camera's network looks at "
                          f"{card.input_size[0]}x{card.input_size[1]}; leave --lores out")
    _picamera2_imx500()  # a missing picamera2 is a set-up problem: say so now, not as a lost camera
    return CameraSource(spec, lambda: AICamera(rpk, card, options, roi), options)
