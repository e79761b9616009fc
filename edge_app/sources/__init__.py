"""Frame sources behind one interface, chosen through one registry.

`open_source(spec)` takes the `--source` value and returns an iterable of `Frame`s (HxWx3 uint8 RGB, plus
a lores picture on a Pi camera with two streams). `source_kind(spec)` names the kind, and OPENERS maps
each kind to the function that opens it: adding a kind means one module and one line here. OpenCV and
picamera2 are imported only when a source needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..redact import redact
from .base import Frame, Source, SourceError, SourceOptions, natural_key, scale_box
from .cameras import open_usb_camera
from .files import PICTURE_EXTENSIONS, open_folder, open_picture
from .imx500 import open_imx500
from .picamera import open_picamera
from .streams import STREAM_SCHEMES, open_stream
from .video import VIDEO_EXTENSIONS, open_video

__all__ = ["Frame", "Source", "SourceError", "SourceOptions", "OPENERS", "open_source", "source_kind",
           "natural_key", "scale_box", "SOURCE_HELP"]

Opener = Callable[[str, SourceOptions], Source]

OPENERS: dict[str, Opener] = {
    "picamera": open_picamera,  # picamera, picamera:N
    "imx500": open_imx500,  # imx500:PATH/network.rpk, the Raspberry Pi AI Camera
    "camera": open_usb_camera,  # camera:N
    "stream": open_stream,  # rtsp://, rtsps://, http://, https://
    "folder": open_folder,
    "picture": open_picture,
    "video": open_video,
}

SOURCE_HELP = ("picamera[:N] | imx500:NETWORK.rpk | camera:N | rtsp://... or http(s)://... stream | VIDEO file | "
               "IMAGE_DIR | IMAGE")


def source_kind(spec: str) -> str:
    """Which OPENERS entry opens this spec; a SourceError says what is wrong when none does."""
    scheme, sep, _ = spec.partition(":")
    if spec in ("picamera", "imx500") or (sep and scheme in ("picamera", "camera", "imx500")):
        return scheme
    if sep and scheme.lower() in STREAM_SCHEMES and spec[len(scheme) :].startswith("://"):
        return "stream"
    path = Path(spec)
    if path.is_dir():
        return "folder"
    if not path.exists():
        raise SourceError(f"{redact(spec)}: no such file or folder (sources: {SOURCE_HELP})")
    suffix = path.suffix.lower()
    if suffix in PICTURE_EXTENSIONS:
        return "picture"
    if suffix in VIDEO_EXTENSIONS:
        return "video"
    raise SourceError(
        f"{redact(spec)}: unknown file type {suffix or '(none)'}; pictures are png/jpg/jpeg/bmp/webp/gif/tif, "
        "videos mp4/avi/mkv/mov/mjpeg"
    )


def open_source(spec: str, options: SourceOptions | None = None, **settings) -> Source:
    """Open the `--source` value with options (or SourceOptions(**settings): size, lores, autofocus, retries, ...).

    A camera or stream that stops delivering is reopened after backoff, 2*backoff, ... seconds, and
    SourceError is raised after `retries` failed reopenings in a row.
    """
    options = options or SourceOptions(**settings)
    return OPENERS[source_kind(spec)](spec, options)
