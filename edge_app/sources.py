"""Frame sources behind one interface: a picture, a folder of pictures, a video file, a USB or Pi camera.

`open_source(spec)` takes the `--source` value (picamera, camera:N, VIDEO, IMAGE_DIR, IMAGE) and returns an
iterable of `Frame`s with HxWx3 uint8 RGB images. Pictures are decoded by the input contract's loader, so
the app sees exactly what evaluation sees; OpenCV and picamera2 are imported only when a source needs them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from .contract import ContractError, load_image

PICTURE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov", ".mjpeg", ".mjpg", ".webm", ".m4v", ".h264", ".mpg", ".mpeg")


class SourceError(ValueError):
    """A source that cannot be opened or that stopped delivering frames for good."""


@dataclass
class Frame:
    """One frame: its index in the source, the RGB image (None if unreadable), the picture's file name."""

    index: int
    image: np.ndarray | None  # (H, W, 3) uint8 RGB
    file: str | None = None  # picture file name for picture sources, else None
    error: str | None = None  # why image is None


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


class PictureSource(Source):
    """Still pictures, in the given order; an unreadable one comes back as a Frame with image None."""

    def __init__(self, name: str, paths: list[Path]) -> None:
        super().__init__(name)
        self.paths = paths

    def _frames(self) -> Iterator[Frame]:
        for index, path in enumerate(self.paths):
            try:
                yield Frame(index, load_image(path), file=path.name)
            except ContractError as err:
                yield Frame(index, None, file=path.name, error=str(err))


def import_cv2() -> ModuleType:
    """OpenCV, imported only for the sources that need it, with a one-line fix when it is missing."""
    try:
        import cv2
    except ImportError:
        raise SourceError("video and USB cameras need OpenCV: pip install opencv-python-headless") from None
    return cv2


class VideoSource(Source):
    """A video file read with OpenCV, frames at the file's own size, converted BGR -> RGB."""

    is_live = True

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self._cv2 = import_cv2()
        self._cap = self._cv2.VideoCapture(str(path))
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceError(f"{path}: OpenCV cannot open this video")

    def _frames(self) -> Iterator[Frame]:
        index = 0
        while self._cap.isOpened():
            ok, bgr = self._cap.read()
            if not ok or bgr is None:  # end of file (OpenCV cannot tell it from a broken tail)
                return
            yield Frame(index, self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB))
            index += 1

    def close(self) -> None:
        self._cap.release()


def _picture_folder(folder: Path) -> PictureSource:
    paths = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PICTURE_EXTENSIONS]
    if not paths:
        raise SourceError(f"{folder}: no pictures ({', '.join(e[1:] for e in PICTURE_EXTENSIONS)}) in this folder")
    return PictureSource(str(folder), sorted(paths, key=lambda p: natural_key(p.name)))


def open_source(
    spec: str,
    *,
    size: tuple[int, int] = (640, 480),
    retries: int = 5,
    backoff: float = 0.5,
    timeout: float = 5.0,
) -> Source:
    """Open the `--source` value: picamera[:N], camera:N, a video file, a picture folder or one picture.

    size (width, height) is asked of cameras; a camera that stops delivering is reopened after backoff,
    2*backoff, ... seconds, and SourceError is raised after `retries` failed reopenings in a row.
    timeout is the longest wait for one camera frame, in seconds.
    """
    # cameras.py builds on this module's types, so it is imported here rather than at the top.
    from .cameras import CameraSource, PiCamera, UsbCamera

    live = {"size": size, "retries": retries, "backoff": backoff, "timeout": timeout}
    if spec == "picamera" or spec.startswith(("picamera:", "camera:")):
        kind, _, number = spec.partition(":")
        if not (number.isdigit() or (kind == "picamera" and not number)):
            raise SourceError(f"{spec!r}: cameras are picamera, picamera:N or camera:N with N a number, e.g. camera:0")
        device = UsbCamera if kind == "camera" else PiCamera
        return CameraSource(spec, device, int(number or 0), **live)

    path = Path(spec)
    if path.is_dir():
        return _picture_folder(path)
    if not path.exists():
        raise SourceError(f"{spec}: no such file or folder (sources: picamera, camera:N, a video, a folder, a picture)")
    suffix = path.suffix.lower()
    if suffix in PICTURE_EXTENSIONS:
        return PictureSource(spec, [path])
    if suffix in VIDEO_EXTENSIONS:
        return VideoSource(path)
    raise SourceError(
        f"{spec}: unknown file type {suffix or '(none)'}; pictures are png/jpg/jpeg/bmp/webp, videos mp4/avi/mkv/mov/mjpeg"
    )
