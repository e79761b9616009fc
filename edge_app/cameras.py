"""Live cameras: a USB camera through OpenCV, the Pi camera through picamera2, and the reconnect logic they share.

Both libraries are imported only when their camera is opened. A camera's read() returns HxWx3 uint8 RGB or
raises; CameraSource turns that into Frames and reopens a camera that stopped delivering.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Protocol

import numpy as np

from .sources import Frame, Source, SourceError, import_cv2

logger = logging.getLogger("edge_app")


class Camera(Protocol):
    """An open camera: read() the next RGB frame or raise; close() releases it."""

    def read(self) -> np.ndarray: ...

    def close(self) -> None: ...


# (number, size (width, height), timeout s) -> an open camera; raises when it cannot open
CameraOpener = Callable[[int, tuple[int, int], float], Camera]


class UsbCamera:
    """A USB (V4L2) camera opened with cv2.VideoCapture(N); frames come back RGB."""

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

    def read(self) -> np.ndarray:
        ok, bgr = self._cap.read()
        if not ok or bgr is None:
            raise OSError("no frame (camera unplugged or timed out)")
        return self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        self._cap.release()


def _picamera2_class() -> type:
    try:
        from picamera2 import Picamera2
    except ImportError:
        raise SourceError(
            "picamera2 comes from Raspberry Pi OS: sudo apt install python3-picamera2, "
            "and create the venv with --system-site-packages"
        ) from None
    return Picamera2


class PiCamera:
    """The Raspberry Pi camera through picamera2 (libcamera); frames come back RGB."""

    def __init__(self, number: int, size: tuple[int, int], timeout: float) -> None:
        self._timeout = timeout
        self._cam = _picamera2_class()(number)
        try:
            # picamera2 names formats the libcamera/DRM way (little-endian words): "BGR888" stores each pixel
            # as bytes R, G, B, i.e. numpy RGB order, while "RGB888" stores B, G, R (OpenCV order). Checked in
            # raspberrypi/picamera2, picamera2/request.py, Helpers.make_image:
            # mode_lookup = {"RGB888": "BGR", "BGR888": "RGB", "XBGR8888": "RGBX", "XRGB8888": "BGRX"}.
            config = self._cam.create_preview_configuration(main={"size": tuple(size), "format": "BGR888"})
            self._cam.configure(config)
            self._cam.start()
        except Exception:
            self._cam.close()
            raise

    def read(self) -> np.ndarray:
        # wait=False gives a job; wait(job, timeout) raises TimeoutError when no frame comes in time.
        array = self._cam.wait(self._cam.capture_array("main", wait=False), timeout=self._timeout)
        return np.ascontiguousarray(array[..., :3])  # drop the X (alpha) byte of 32-bit formats

    def close(self) -> None:
        try:
            self._cam.stop()
        finally:
            self._cam.close()


class Reconnecting:
    """A camera that reopens itself: after a failed read it waits backoff, 2*backoff, ... (capped) and retries.

    Logs one line per outage; raises SourceError after `retries` failed reopenings in a row.
    """

    def __init__(
        self,
        name: str,
        connect: Callable[[], Camera],
        *,
        retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
    ) -> None:
        self.name = name
        self._connect = connect
        self.retries, self.backoff, self.max_backoff = retries, backoff, max_backoff
        self.outages = 0
        self._closed = False
        try:
            self._camera: Camera | None = connect()
        except SourceError:
            raise
        except Exception as err:  # camera libraries raise RuntimeError, OSError, cv2.error...
            # Failing at start is a configuration problem: say so at once rather than retry.
            raise SourceError(f"{name}: cannot open the camera: {err}") from None

    def read(self) -> np.ndarray:
        """The next RGB frame, reopening the camera as often as needed."""
        if self._closed:
            raise SourceError(f"{self.name}: the camera was closed")
        try:
            if self._camera is None:
                raise OSError("no open camera")
            return self._camera.read()
        except Exception as err:  # any failure of the device counts as losing it
            self.outages += 1
            logger.warning("%s: camera lost (%s); reconnecting", self.name, err)
        delay, last_error = self.backoff, None
        for attempt in range(1, self.retries + 1):
            self._release()
            time.sleep(delay)
            try:
                self._camera = self._connect()
                frame = self._camera.read()
            except Exception as err:  # still gone: wait longer
                last_error = err
                delay = min(2 * delay, self.max_backoff)
                continue
            logger.debug("%s: camera back after %d attempts", self.name, attempt)
            return frame
        self._release()
        raise SourceError(f"{self.name}: camera lost and {self.retries} reconnects failed (last: {last_error})")

    def _release(self) -> None:
        camera, self._camera = self._camera, None
        if camera is not None:
            try:
                camera.close()
            except Exception as err:  # a vanished device may fail to close; it is gone either way
                logger.debug("%s: close failed: %s", self.name, err)

    def close(self) -> None:
        self._closed = True
        self._release()


class CameraSource(Source):
    """Frames from a live camera, reopened on failure (see Reconnecting)."""

    is_live = True

    def __init__(
        self,
        name: str,
        opener: CameraOpener,
        number: int,
        *,
        size: tuple[int, int],
        retries: int,
        backoff: float,
        timeout: float,
    ) -> None:
        super().__init__(name)
        self.camera = Reconnecting(name, lambda: opener(number, size, timeout), retries=retries, backoff=backoff)

    def _frames(self) -> Iterator[Frame]:
        index = 0
        while True:
            yield Frame(index, self.camera.read())
            index += 1

    def close(self) -> None:
        self.camera.close()
