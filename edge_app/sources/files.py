"""Still pictures: one picture file, or a folder of them in natural order, decoded by the input contract's loader."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..contract import ContractError, load_image
from .base import Frame, Source, SourceError, SourceOptions, natural_key

PICTURE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


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
    paths = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PICTURE_EXTENSIONS]
    if not paths:
        raise SourceError(f"{folder}: no pictures ({', '.join(e[1:] for e in PICTURE_EXTENSIONS)}) in this folder")
    return PictureSource(spec, sorted(paths, key=lambda p: natural_key(p.name)))


def open_picture(spec: str, options: SourceOptions) -> PictureSource:
    """One picture file."""
    return PictureSource(spec, [Path(spec)])
