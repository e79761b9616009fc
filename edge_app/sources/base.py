"""What every source shares: the Frame it yields, the Source interface, the options it is opened with, its error."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from ..contract import Box


class SourceError(ValueError):
    """A source that cannot be opened or that stopped delivering frames for good."""


class SourceUnavailable(SourceError):
    """A camera or stream that is not there yet (a device still booting, a router or IP camera that comes up after
    the Pi): worth starting again later, unlike a source that is wrong (exit 1, not 2, so systemd retries)."""


@dataclass(frozen=True)
class CameraControls:
    """Camera settings a user may give (--lens-position, --hflip, ...); None or the default leaves the camera's own."""

    lens_position: float | None = None  # dioptres (1 / distance in m; 0 = infinity): manual focus, Camera Module 3
    hflip: bool = False  # mirror left-right
    vflip: bool = False  # upside down (both flips: a camera mounted rotated by 180 degrees)
    exposure_us: int | None = None  # a fixed exposure time, auto exposure off (a far number at night: longer)
    gain: float | None = None  # analogue gain
    brightness: float | None = None  # -1..1
    zoom: float = 1.0  # digital zoom on the Pi camera: the centre 1/zoom of the sensor at full resolution


@dataclass(frozen=True)
class SourceOptions:
    """How live sources are opened; picture folders ignore all of it."""

    size: tuple[int, int] = (640, 480)  # (width, height) asked of cameras: picamera2's main stream, USB cameras
    lores: tuple[int, int] | None = None  # picamera2 lores stream (width, height): the detector's input size
    autofocus: str | None = None  # picamera2 AfMode on Camera Module 3: continuous | auto | manual; None: leave it
    retries: int = 5  # reopenings in a row before a lost camera or stream is given up
    backoff: float = 0.5  # first wait between reopenings in seconds, doubled each time (capped)
    timeout: float = 5.0  # longest wait for one camera frame, in seconds
    heartbeat: Callable[[], None] | None = None  # called while reconnecting (the systemd watchdog's ping)
    controls: CameraControls = CameraControls()
    roi: Box | None = None  # --roi: a camera that reads on its sensor (the AI Camera's reader network) reads there


@dataclass
class Frame:
    """One frame of a source.

    image: (H, W, 3) uint8 RGB at full size (picamera2's main stream), None when unreadable (see error).
    lores: the same moment at the detector's size, (h, w, 3) uint8 RGB, when the source has a second
    stream (picamera2 with SourceOptions.lores); None for every other source. A detector should run on
    `frame.detector_image` and hand its boxes to `frame.to_image(box)`, which maps lores pixels to image
    pixels, so that the reader crops from the sharp full-size image.
    """

    index: int
    image: np.ndarray | None
    file: str | None = None  # picture file name for picture sources, else None
    error: str | None = None  # why image is None
    lores: np.ndarray | None = None
    time: float | None = None  # seconds on the source's clock (a video's timestamps, a camera's capture time)

    @property
    def detector_image(self) -> np.ndarray | None:
        """The picture a detector should look at: the lores stream where there is one, else the image."""
        return self.lores if self.lores is not None else self.image

    def to_image(self, box: Box) -> Box:
        """A box in detector_image pixels -> the same place in image pixels (identity without lores)."""
        if self.lores is None or self.image is None:
            return Box(*box)
        return scale_box(box, self.lores.shape[1::-1], self.image.shape[1::-1])


def scale_box(box: Box, src: tuple[int, int], dst: tuple[int, int]) -> Box:
    """Map a box between two views of the same field of view: src and dst are (width, height).

    x and y scale apart: picamera2 feeds lores from main's crop of the sensor without keeping the aspect
    ratio (preserve_ar False), so a 4:3 lores under a 16:9 main is stretched, not cut.
    """
    sx, sy = dst[0] / src[0], dst[1] / src[1]
    return Box(box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)


class Source:
    """An iterable of Frames with a name (the spec), `is_live`, close() and context-manager support."""

    is_live = False  # True when frames follow one scene in time (cameras, video): the app smooths across them

    def __init__(self, name: str) -> None:
        self.name = name

    def __iter__(self) -> Iterator[Frame]:
        return self._frames()

    def _frames(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the device or file; safe to call twice."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def natural_key(name: str) -> list:
    """Sort key that orders numbers by value: 2.png before 10.png."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name.lower())]


def import_cv2() -> ModuleType:
    """OpenCV, imported only for the sources that need it, with a one-line fix when it is missing."""
    try:
        import cv2
    except ImportError:
        raise SourceError("videos, streams and USB cameras need OpenCV: pip install opencv-python-headless") from None
    return cv2
