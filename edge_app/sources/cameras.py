"""USB (V4L2) cameras through OpenCV: `camera:N`. OpenCV is imported only when one is opened."""

from __future__ import annotations

import logging

from .base import CameraControls, SourceError, SourceOptions, import_cv2
from .live import CameraSource, OpenCvCapture

logger = logging.getLogger("edge_app")


class UsbCamera(OpenCvCapture):
    """A USB camera opened with cv2.VideoCapture(N); frames come back RGB, without lores."""

    lost = "no frame (camera unplugged or timed out)"

    def __init__(self, number: int, size: tuple[int, int], timeout: float,
                 controls: CameraControls | None = None) -> None:
        controls = controls or CameraControls()
        self._cv2 = cv2 = import_cv2()
        self._cap = cv2.VideoCapture(number)
        if not self._cap.isOpened():
            self._cap.release()
            raise OSError(f"no USB camera {number} (is it plugged in? ls /dev/video*)")
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        # A read blocked longer than this fails like an unplugged camera (on backends that honour it).
        if hasattr(cv2, "CAP_PROP_READ_TIMEOUT_MSEC"):
            self._cap.set(cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout * 1000)
        self.flips = tuple(axis for axis, on in ((0, controls.vflip), (1, controls.hflip)) if on)
        # V4L2 through OpenCV: each setting where the driver takes it (set() says False where it does not).
        for prop, value, name in ((cv2.CAP_PROP_EXPOSURE, controls.exposure_us, "exposure"),
                                  (cv2.CAP_PROP_GAIN, controls.gain, "gain"),
                                  (cv2.CAP_PROP_BRIGHTNESS, controls.brightness, "brightness")):
            if value is not None and not self._cap.set(prop, float(value)):
                logger.warning("USB camera %d does not take %s %g; ignored", number, name, value)
        if controls.lens_position is not None or controls.zoom != 1.0:
            logger.warning("lens-position and zoom are Pi camera controls; ignored for USB camera %d", number)


def camera_number(spec: str) -> int:
    """'camera:2' -> 2, 'picamera' -> 0; anything else is a SourceError naming the right form."""
    kind, _, number = spec.partition(":")
    if number.isdigit() or (kind == "picamera" and not number):
        return int(number or 0)
    raise SourceError(f"{spec!r}: cameras are picamera, picamera:N or camera:N with N a number, e.g. camera:0")


def open_usb_camera(spec: str, options: SourceOptions) -> CameraSource:
    number = camera_number(spec)
    import_cv2()  # say at once that OpenCV is missing, rather than as a failed first connection
    return CameraSource(spec, lambda: UsbCamera(number, options.size, options.timeout, options.controls), options)
