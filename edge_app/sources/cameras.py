"""USB (V4L2) cameras through OpenCV: `camera:N`. OpenCV is imported only when one is opened."""

from __future__ import annotations

from .base import SourceError, SourceOptions, import_cv2
from .live import CameraSource, OpenCvCapture


class UsbCamera(OpenCvCapture):
    """A USB camera opened with cv2.VideoCapture(N); frames come back RGB, without lores."""

    lost = "no frame (camera unplugged or timed out)"

    def __init__(self, number: int, size: tuple[int, int], timeout: float) -> None:
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


def camera_number(spec: str) -> int:
    """'camera:2' -> 2, 'picamera' -> 0; anything else is a SourceError naming the right form."""
    kind, _, number = spec.partition(":")
    if number.isdigit() or (kind == "picamera" and not number):
        return int(number or 0)
    raise SourceError(f"{spec!r}: cameras are picamera, picamera:N or camera:N with N a number, e.g. camera:0")


def open_usb_camera(spec: str, options: SourceOptions) -> CameraSource:
    number = camera_number(spec)
    import_cv2()  # say at once that OpenCV is missing, rather than as a failed first connection
    return CameraSource(spec, lambda: UsbCamera(number, options.size, options.timeout), options)
