"""Network streams through OpenCV (FFmpeg): rtsp://, rtsps://, http:// and https:// (IP cameras, doorbells, MJPEG).

A stream that drops is reopened like a camera (see live.Reconnecting); credentials in the URL never
reach a log line.
"""

from __future__ import annotations

from ..redact import redact
from .base import SourceOptions, import_cv2
from .live import CameraSource, OpenCvCapture

STREAM_SCHEMES = ("rtsp", "rtsps", "http", "https")


class StreamCamera(OpenCvCapture):
    """One connection to a stream; frames at the stream's own size, RGB."""

    lost = "no frame (stream dropped or timed out)"

    def __init__(self, url: str, timeout: float) -> None:
        self._cv2 = cv2 = import_cv2()
        params = []
        # Open and read timeouts where this OpenCV has them (4.6+), so a dead camera fails instead of hanging.
        for name in ("CAP_PROP_OPEN_TIMEOUT_MSEC", "CAP_PROP_READ_TIMEOUT_MSEC"):
            if hasattr(cv2, name):
                params += [getattr(cv2, name), int(timeout * 1000)]
        self._cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
        if not self._cap.isOpened():
            self._cap.release()
            raise OSError(f"cannot connect to {redact(url)} (address, credentials, or the camera's stream path?)")


def open_stream(spec: str, options: SourceOptions) -> CameraSource:
    import_cv2()
    return CameraSource(redact(spec), lambda: StreamCamera(spec, options.timeout), options)
