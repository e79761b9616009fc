"""Live devices (cameras, network streams): the Camera interface and the reconnect logic they share.

A camera's read() returns (image, lores): HxWx3 uint8 RGB, plus the lores picture or None, or raises.
CameraSource turns that into Frames and reopens a device that stopped delivering.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Protocol

import numpy as np

from .base import Frame, Source, SourceError, SourceOptions, SourceUnavailable

logger = logging.getLogger("edge_app")
STEADY = 3  # shots in a row after a reconnect before a new loss counts as a new outage (a stalling stream
# that delivers a frame and stalls again would otherwise reconnect forever, with a warning each time)

Shot = tuple[np.ndarray, "np.ndarray | None"]  # (image, lores or None)



class OpenCvCapture:
    """What USB cameras and network streams share: a cv2.VideoCapture read as RGB shots (no lores)."""

    lost = "no frame"  # what a failed read means for this kind of capture, for the outage log line

    flips: tuple[int, ...] = ()  # numpy axes to flip each frame on (0: upside down, 1: mirrored)

    def read(self) -> Shot:
        ok, bgr = self._cap.read()
        if not ok or bgr is None:
            raise OSError(self.lost)
        rgb = self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB)
        return (np.ascontiguousarray(np.flip(rgb, self.flips)) if self.flips else rgb), None

    def close(self) -> None:
        self._cap.release()

class Camera(Protocol):
    """An open camera or stream: read() the next shot or raise; close() releases it."""

    def read(self) -> Shot: ...

    def close(self) -> None: ...


class Reconnecting:
    """A device that reopens itself: after a failed read it waits backoff, 2*backoff, ... (capped) and retries.

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
        heartbeat: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self._connect = connect
        self._heartbeat = heartbeat or (lambda: None)  # a reconnecting app is alive, not hung
        self.retries, self.backoff, self.max_backoff = retries, backoff, max_backoff
        self._closed = False
        self._spent = 0  # reconnects of the current outage: a stream that comes back and stalls again keeps it
        self._since_back = 0  # shots since the camera last came back
        try:
            self._camera: Camera | None = connect()
        except SourceError:
            raise
        except Exception as err:  # camera libraries raise RuntimeError, OSError, cv2.error...
            # Said at once rather than retried here; the exit code lets a service manager start the app again later
            # (a stream's camera or router may boot after the Pi), while a wrong source is exit 2.
            raise SourceUnavailable(f"{name}: cannot open the camera: {err}") from None

    def read(self) -> Shot:
        """The next shot, reopening the device as often as needed."""
        if self._closed:
            raise SourceError(f"{self.name}: the camera was closed")
        try:
            if self._camera is None:
                raise OSError("no open camera")
            shot = self._camera.read()
            self._since_back += 1
            if self._since_back >= STEADY:
                self._spent = 0  # steady again: the next loss is a new outage
            return shot
        except Exception as err:  # any failure of the device counts as losing it
            if self._spent == 0:  # once an outage, not at every stall of a flapping stream
                logger.warning("%s: camera lost (%s); reconnecting", self.name, err)
        delay, last_error = self.backoff, None
        while self._spent < self.retries:
            self._spent += 1
            self._release()
            self._heartbeat()
            time.sleep(delay)
            try:
                self._camera = self._connect()
                shot = self._camera.read()
            except Exception as err:  # still gone: wait longer
                last_error = err
                delay = min(2 * delay, self.max_backoff)
                continue
            logger.debug("%s: camera back after %d attempts", self.name, self._spent)
            self._since_back = 1
            return shot
        self._release()
        raise SourceError(f"{self.name}: camera lost and {self.retries} reconnects failed "
                          f"(last: {last_error or 'it came back but stalled again at once'})")

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
    """Frames from a live device, reopened on failure (see Reconnecting)."""

    is_live = True

    def __init__(self, name: str, connect: Callable[[], Camera], options: SourceOptions) -> None:
        super().__init__(name)
        self.camera = Reconnecting(name, connect, retries=options.retries, backoff=options.backoff,
                                   heartbeat=options.heartbeat)

    def _frames(self) -> Iterator[Frame]:
        index = 0
        while True:
            image, lores = self.camera.read()
            yield Frame(index, image, lores=lores, time=time.monotonic())
            index += 1

    def close(self) -> None:
        self.camera.close()
