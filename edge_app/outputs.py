"""Where readings go: JSON lines written whole or not at all, a console line, annotated pictures, a run summary."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROI_COLOUR = (0, 255, 0)  # green reads on most street scenes
TEXT_COLOUR = (0, 0, 0)


class OutputError(RuntimeError):
    """A reading, picture or log that could not be written (disk full, missing folder...)."""


def _jsonable(value: object) -> object:
    """json.dumps fallback for numpy scalars and arrays, which events often carry."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class JsonlWriter:
    """Appends one JSON object a line; a line is written whole or not at all."""

    def __init__(self, path: str | os.PathLike, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync  # also push each line to the disk (slower; survives a power cut)
        try:
            self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as err:
            raise OutputError(f"cannot open {self.path} for readings: {err.strerror or err}") from None

    def write(self, event: dict) -> None:
        """Append `event` as one line; on failure the file is cut back to its size before the write."""
        if self._fd is None:
            raise OutputError(f"cannot write readings to {self.path}: the writer is closed")
        data = (json.dumps(event, ensure_ascii=False, default=_jsonable) + "\n").encode("utf-8")
        # One os.write on an O_APPEND descriptor: no Python buffer to flush, and no interleaving with other
        # appenders. Truncating back assumes we are the only writer, which the app is.
        before = os.fstat(self._fd).st_size
        try:
            written = os.write(self._fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, f"short write ({written} of {len(data)} bytes)")
            if self.fsync:
                os.fsync(self._fd)
        except OSError as err:
            self._cut_back(before)
            raise OutputError(f"cannot write readings to {self.path}: {err.strerror or err}") from None

    def _cut_back(self, size: int) -> None:
        """Remove a partial line; only regular files can be truncated (not /dev/full or a pipe)."""
        info = os.fstat(self._fd)
        if stat.S_ISREG(info.st_mode) and info.st_size > size:
            try:
                os.ftruncate(self._fd, size)
            except OSError as err:
                raise OutputError(
                    f"{self.path}: a partial line may remain after a failed write ({err.strerror})"
                ) from None

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def format_console(event: dict) -> str:
    """One human line: 'frame 12  1.png  reading 231  conf 0.97  [0.99 0.98 0.99]  3.1 ms'."""
    parts = [f"frame {event.get('frame', '?')}"]
    if event.get("file"):
        parts.append(str(event["file"]))
    reading = event.get("reading")
    parts.append(f"reading {reading if reading is not None else '-'}")
    if event.get("confidence") is not None:
        parts.append(f"conf {event['confidence']:.2f}")
    if event.get("digit_confidences"):
        parts.append("[" + " ".join(f"{c:.2f}" for c in event["digit_confidences"]) + "]")
    if event.get("latency_ms") is not None:
        parts.append(f"{event['latency_ms']:.1f} ms")
    return "  ".join(parts)


def annotate(image: np.ndarray, roi: Sequence[int], text: str, confidence: float) -> Image.Image:
    """A copy of the RGB picture with the ROI (x, y, w, h) outlined and the reading written beside it."""
    picture = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).convert("RGB")
    draw = ImageDraw.Draw(picture)
    x, y, w, h = (int(round(v)) for v in roi)
    line = max(2, round(min(picture.size) / 200))
    draw.rectangle((x, y, x + w - 1, y + h - 1), outline=ROI_COLOUR, width=line)
    label = f"{text or '-'}  {confidence:.2f}"
    font = ImageFont.load_default()
    left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
    tw, th = right - left + 4, bottom - top + 4
    ty = y - th if y - th >= 0 else min(y + h, picture.height - th)  # above the ROI, else below it
    draw.rectangle((x, ty, x + tw, ty + th), fill=ROI_COLOUR)
    draw.text((x + 2 - left, ty + 2 - top), label, fill=TEXT_COLOUR, font=font)
    return picture


def save_annotated(image: Image.Image, folder: str | os.PathLike, name: str) -> Path:
    """Write the picture to folder/name atomically (temp file in the same folder, then os.replace)."""
    folder = Path(folder)
    target = folder / name
    image_format = Image.registered_extensions().get(target.suffix.lower())
    if image_format is None:
        raise OutputError(f"{target}: unknown picture type {target.suffix or '(none)'}; use .png or .jpg")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as err:
        raise OutputError(f"cannot save annotated pictures in {folder}: {err.strerror or err}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            image.save(f, format=image_format)
        os.replace(tmp, target)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise OutputError(f"cannot save {target}: {err.strerror or err}") from None
        raise
    return target


class Summary:
    """Counts and timings of a run: frames, skipped frames, readings reported, fps, latency percentiles."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self.frames = 0
        self.skipped = 0  # frames that could not be read or processed
        self.readings = 0
        self.latencies_ms: list[float] = []
        self._first: float | None = None
        self._last: float | None = None

    def add_frame(self, latency_ms: float | None = None, *, skipped: bool = False) -> None:
        """Count one frame, with its processing latency unless it was skipped."""
        now = self._clock()
        self._first = now if self._first is None else self._first
        self._last = now
        self.frames += 1
        if skipped:
            self.skipped += 1
        elif latency_ms is not None:
            self.latencies_ms.append(float(latency_ms))

    def add_reading(self) -> None:
        """Count one reported reading."""
        self.readings += 1

    @property
    def fps(self) -> float | None:
        """Frames per second over the wall time from the first frame to the last (n frames, n-1 gaps)."""
        if self.frames < 2 or self._last == self._first:
            return None
        return (self.frames - 1) / (self._last - self._first)

    def as_dict(self) -> dict:
        lat = np.asarray(self.latencies_ms)
        latency = None
        if lat.size:
            p50, p95 = np.percentile(lat, [50, 95])
            latency = {"p50": float(p50), "p95": float(p95), "mean": float(lat.mean()), "max": float(lat.max())}
        return {
            "frames": self.frames,
            "skipped": self.skipped,
            "readings": self.readings,
            "fps": self.fps,
            "latency_ms": latency,
        }

    def text(self) -> str:
        """'frames 120 (2 skipped)  readings 7  fps 63.2  latency p50 2.1 ms p95 3.4 ms'."""
        d = self.as_dict()
        fps = f"{d['fps']:.1f}" if d["fps"] is not None else "-"
        lat = d["latency_ms"]
        latency = f"p50 {lat['p50']:.1f} ms p95 {lat['p95']:.1f} ms" if lat else "-"
        return f"frames {self.frames} ({self.skipped} skipped)  readings {self.readings}  fps {fps}  latency {latency}"
