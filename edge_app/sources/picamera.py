"""The Raspberry Pi camera through picamera2 (libcamera): `picamera[:N]`, imported only when opened.

Two streams when asked (SourceOptions.lores): `main` at the full size for the reader's crop and `lores` at
the detector's size, both cut from the same part of the sensor, as picamera2's TF Lite examples do.
"""

from __future__ import annotations

import logging

import numpy as np

from .base import CameraControls, SourceError, SourceOptions
from .cameras import camera_number
from .live import CameraSource, Shot

logger = logging.getLogger("edge_app")

# libcamera's AfModeEnum values (controls::AfModeManual/Auto/Continuous), given as ints so that
# libcamera need not be imported here; Camera Module 3 has autofocus, the others ignore it.
AUTOFOCUS_MODES = {"manual": 0, "auto": 1, "continuous": 2}
AF_TRIGGER_START = 0  # controls::AfTriggerStart: one focus sweep in "auto" mode


def _picamera2_class() -> type:
    try:
        from picamera2 import Picamera2
    except ImportError:
        raise SourceError(
            "picamera2 comes from Raspberry Pi OS: sudo apt install python3-picamera2, "
            "and create the venv with --system-site-packages"
        ) from None
    return Picamera2


def yuv420_to_rgb(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """picamera2's YUV420 lores array -> (h, w, 3) uint8 RGB.

    The array is (h * 3/2, stride): h rows of Y, then U and V planes of (h/2, w/2), two of their rows per
    array row, with the stride's padding left in (picamera2 request.py does the same slicing).
    Full-range BT.601 (the Sycc colour space of preview configurations):
    R = Y + 1.402 V', G = Y - 0.344 U' - 0.714 V', B = Y + 1.772 U' with U' = U - 128, V' = V - 128.
    """
    w, h = size
    y = array[:h, :w].astype(np.float32)
    halves = array.reshape(array.shape[0] * 2, array.shape[1] // 2)
    u = halves[2 * h : 2 * h + h // 2, : w // 2].astype(np.float32) - 128
    v = halves[2 * h + h // 2 : 3 * h, : w // 2].astype(np.float32) - 128
    u, v = (np.repeat(np.repeat(c, 2, axis=0), 2, axis=1)[:h, :w] for c in (u, v))
    rgb = np.stack([y + 1.402 * v, y - 0.344 * u - 0.714 * v, y + 1.772 * u], axis=-1)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


class PiCamera:
    """An open Pi camera; read() gives the main stream as RGB and the lores stream (RGB) or None."""

    def __init__(self, number: int, options: SourceOptions) -> None:
        self._timeout = options.timeout
        self._lores = options.lores
        self._cam = _picamera2_class()(number)
        try:
            # picamera2 names formats the libcamera/DRM way (little-endian words): "BGR888" stores each pixel
            # as bytes R, G, B, i.e. numpy RGB order (picamera2 request.py: mode_lookup "BGR888": "RGB").
            streams = {"main": {"size": tuple(options.size), "format": "BGR888"}}
            if options.lores:
                # Pi 4 and older (VC4) give lores only as YUV (picamera2 raises "lores stream must be YUV").
                streams["lores"] = {"size": tuple(options.lores), "format": "YUV420"}
            config = self._cam.create_preview_configuration(**streams, **_transform(options.controls))
            self._cam.configure(config)
            self._cam.start()
            if options.autofocus:
                self._set_autofocus(options.autofocus)
            self._set_controls(options.controls, options.size)
        except Exception:
            self._cam.close()
            raise

    def _set_autofocus(self, mode: str) -> None:
        if "AfMode" not in self._cam.camera_controls:
            logger.warning("autofocus = %s: this camera has no autofocus (Camera Module 3 has); ignored", mode)
            return
        controls = {"AfMode": AUTOFOCUS_MODES[mode]}
        if mode == "auto":
            controls["AfTrigger"] = AF_TRIGGER_START
        self._cam.set_controls(controls)

    def _set_controls(self, c: CameraControls, size: tuple[int, int]) -> None:
        """libcamera controls for the user's settings; one the camera lacks is named in one line and skipped."""
        wanted: dict = {}
        if c.lens_position is not None:
            wanted.update(AfMode=AUTOFOCUS_MODES["manual"], LensPosition=float(c.lens_position))
        if c.exposure_us is not None:
            wanted.update(AeEnable=False, ExposureTime=int(c.exposure_us))
        if c.gain is not None:
            wanted["AnalogueGain"] = float(c.gain)
        if c.brightness is not None:
            wanted["Brightness"] = float(c.brightness)
        if c.zoom != 1.0:
            wanted["ScalerCrop"] = self._crop(c.zoom, size)
        if not wanted:
            return
        have = self._cam.camera_controls
        missing = [k for k in wanted if k not in have and k != "AeEnable"]
        if missing:
            logger.warning("camera controls %s: this camera does not have them; ignored", ", ".join(missing))
        for key, value in wanted.items():
            limits = have.get(key)
            if key in missing or not isinstance(value, float) or not limits or limits[0] is None:
                continue
            low, high = limits[0], limits[1]
            if not low <= value <= high:
                logger.warning("%s %g is outside this camera's %g..%g; using %g", key, value, low, high,
                               min(max(value, low), high))
                wanted[key] = min(max(value, low), high)
        self._cam.set_controls({k: v for k, v in wanted.items() if k not in missing})

    def _crop(self, zoom: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
        """The sensor rectangle of a digital zoom: its centre 1/zoom, never fewer pixels than the main stream."""
        x, y, w, h = self._cam.camera_properties["ScalerCropMaximum"]
        most = min(w / size[0], h / size[1])
        if zoom > most:
            raise SourceError(f"zoom {zoom:g}: the sensor's {w}x{h} holds at most {most:.1f}x a {size[0]}x{size[1]} "
                              "frame; give a smaller --zoom or --size")
        cw, ch = round(w / zoom), round(h / zoom)
        return x + (w - cw) // 2, y + (h - ch) // 2, cw, ch

    def read(self) -> Shot:
        # One request holds both streams, so main and lores show the same moment.
        request = self._cam.wait(self._cam.capture_request(wait=False), timeout=self._timeout)
        try:
            main = np.ascontiguousarray(request.make_array("main")[..., :3])  # drop X of 32-bit formats
            lores = yuv420_to_rgb(request.make_array("lores"), self._lores) if self._lores else None
        finally:
            request.release()
        return main, lores

    def close(self) -> None:
        try:
            self._cam.stop()
        finally:
            self._cam.close()


def _transform(c: CameraControls) -> dict:
    """create_preview_configuration's transform for the flips (libcamera comes with picamera2); none without."""
    if not (c.hflip or c.vflip):
        return {}
    from libcamera import Transform

    return {"transform": Transform(hflip=int(c.hflip), vflip=int(c.vflip))}


def open_picamera(spec: str, options: SourceOptions) -> CameraSource:
    number = camera_number(spec)
    if options.autofocus is not None and options.autofocus not in AUTOFOCUS_MODES:
        raise SourceError(f"autofocus {options.autofocus!r}: expected one of {', '.join(AUTOFOCUS_MODES)}")
    if options.lores and any(v % 2 for v in options.lores):
        raise SourceError(f"lores {options.lores[0]}x{options.lores[1]}: YUV420 needs an even width and height")
    _picamera2_class()  # a missing picamera2 is a set-up problem: say so now, not as a lost camera
    return CameraSource(spec, lambda: PiCamera(number, options), options)
