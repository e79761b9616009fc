"""Still pictures: one picture file, or a folder of them in natural order, decoded by the input contract's loader."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from ..contract import ContractError, load_image
from .base import Frame, Source, SourceError, SourceOptions, natural_key

PICTURE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff")  # a GIF: its first frame
LABEL_FILES = ("digitStruct.csv", "digitStruct.mat", "synth.json", "scenes.json")  # expected beside pictures
log = logging.getLogger("edge_app")


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


def open_folder(spec: str, options: SourceOptions) -> PictureSource:
    """Every picture in a folder, 2.png before 10.png; other files (digitStruct, notes) are ignored."""
    folder = Path(spec)
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    paths = [p for p in files if p.suffix.lower() in PICTURE_EXTENSIONS]
    if other := sorted(p.name for p in files if p not in paths and p.name not in LABEL_FILES):
        log.info("%s: not reading %d files that are not pictures (%s)", folder, len(other),
                 ", ".join(other[:5]) + (", ..." if len(other) > 5 else ""))
    if not paths:
        raise SourceError(f"{folder}: no pictures ({', '.join(e[1:] for e in PICTURE_EXTENSIONS)}) in this folder")
    return PictureSource(spec, sorted(paths, key=lambda p: natural_key(p.name)))


def open_picture(spec: str, options: SourceOptions) -> PictureSource:
    """One picture file."""
    return PictureSource(spec, [Path(spec)])
