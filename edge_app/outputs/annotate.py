"""`--annotate DIR`: every frame saved with the region read and its reading drawn (green when it passed the gate)."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..atomic import atomic_path
from .base import FrameView, Output, OutputError

if TYPE_CHECKING:
    from ..app import AppConfig

FRAME_NAME = re.compile(r"\d{6}\.jpg")  # what this output writes: NNNNNN.jpg, the frame index
ROI_COLOUR = (0, 255, 0)  # green reads on most street scenes: a reported reading
PENDING_COLOUR = (255, 170, 0)  # amber: read, but below the confidence gate
BOX_COLOUR = (0, 160, 255)  # the detector's box, where there is one
TEXT_COLOUR = (0, 0, 0)


def annotate(image: np.ndarray, roi: Sequence[int], text: str, confidence: float | None, *,
             colour: tuple[int, int, int] = ROI_COLOUR, box: Sequence[int] | None = None) -> Image.Image:
    """A copy of the RGB picture with the ROI (x, y, w, h) outlined and the reading written beside it."""
    picture = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).convert("RGB")
    if box is not None:
        _outline(picture, box, None, BOX_COLOUR)
    label = f"{text or '-'}  {confidence:.2f}" if confidence is not None else (text or "-")
    _outline(picture, roi, label, colour)
    return picture


def _outline(picture: Image.Image, rect: Sequence[int], label: str | None, colour: tuple[int, int, int]) -> None:
    """Draw a rectangle (x, y, w, h) and, where given, a label on a patch of its colour above it (else below)."""
    draw = ImageDraw.Draw(picture)
    line = max(2, round(min(picture.size) / 200))
    x, y, w, h = (int(round(v)) for v in rect)
    draw.rectangle((x, y, x + w - 1, y + h - 1), outline=colour, width=line)
    if label is None:
        return
    font = ImageFont.load_default()
    left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
    tw, th = right - left + 4, bottom - top + 4
    ty = y - th if y - th >= 0 else min(y + h, picture.height - th)
    draw.rectangle((x, ty, x + tw, ty + th), fill=colour)
    draw.text((x + 2 - left, ty + 2 - top), label, fill=TEXT_COLOUR, font=font)


def annotate_view(view: FrameView) -> Image.Image:
    """The frame with its region, box and reading drawn, green if the reading passed the gate, amber if not; a live
    frame with tracks gets each track's box and reading instead."""
    if view.tracks:
        return annotate_tracks(view.image, view.tracks)
    if view.region is None:
        return Image.fromarray(np.ascontiguousarray(view.image, dtype=np.uint8)).convert("RGB")
    said = [e for e in view.events if e.event != "gone"]
    if said:
        return annotate(view.image, view.region, said[0].reading, said[0].confidence, box=view.box)
    if view.passed:
        return annotate(view.image, view.region, view.reading, view.confidence, box=view.box)
    return annotate(view.image, view.region, view.reading, view.confidence, colour=PENDING_COLOUR, box=view.box)


def annotate_tracks(image: np.ndarray, tracks: list[dict]) -> Image.Image:
    """A copy of the picture with each live track's box and "#id reading" drawn: green once reported, else amber."""
    picture = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).convert("RGB")
    for t in tracks:
        label = f"#{t['id']} {t['reading'] or '-'}" + (f" {t['confidence']:.2f}" if t["confidence"] is not None else "")
        _outline(picture, t["box"], label, ROI_COLOUR if t["reported"] else PENDING_COLOUR)
    return picture


def save_annotated(image: Image.Image, folder: str | os.PathLike, name: str) -> Path:
    """Write the picture to folder/name whole or not at all (edge_app.atomic)."""
    folder = Path(folder)
    target = folder / name
    image_format = Image.registered_extensions().get(target.suffix.lower())
    if image_format is None:
        raise OutputError(f"{target}: unknown picture type {target.suffix or '(none)'}; use .png or .jpg")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            image.save(tmp, format=image_format)
    except OSError as err:
        raise OutputError(f"cannot save {target}: {err.strerror or err}") from None
    return target


class AnnotateOutput(Output):
    """Saves every processed frame as DIR/NNNNNN.jpg (policy: disabled after 20 failed saves in a row)."""

    key = "annotate"

    def __init__(self, folder: str | os.PathLike, force: bool = False) -> None:
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            earlier = sorted(p for p in self.folder.iterdir() if FRAME_NAME.fullmatch(p.name))
        except OSError as err:
            raise OutputError(f"--annotate {self.folder}: cannot make the folder ({err.strerror or err})") from None
        if earlier and not force:  # its 000001.jpg would be overwritten and the rest mixed into this run's
            raise OutputError(f"--annotate {self.folder} holds {len(earlier)} pictures of an earlier run; "
                              "pick another folder or pass --force to replace them")
        for path in earlier:
            path.unlink(missing_ok=True)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--annotate", type=Path,
                            help="save every frame with the region and reading drawn into this folder "
                            "(for a short look: a file a frame)")
        parser.add_argument("--force", action="store_true",
                            help="let --annotate replace the pictures of an earlier run")

    @classmethod
    def from_config(cls, cfg: AppConfig) -> AnnotateOutput | None:
        return cls(cfg.annotate, cfg.force) if cfg.annotate else None

    def frame(self, view: FrameView) -> None:
        if view.image is not None:
            save_annotated(annotate_view(view), self.folder, f"{view.index:06d}.jpg")
