"""The SVHN format-1 archives: their table (name, size, MD5), how to verify one and unpack it safely."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

BASE_URL = "http://ufldl.stanford.edu/housenumbers/"
MARKER = ".complete"  # written into <split>/ before the final rename; holds the archive's MD5
# tarfile's own guard against absolute paths, "..", links out and device files (3.10.12+, 3.11.4+).
_DATA_FILTER = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}


class DownloadError(Exception):
    """A failure the user can act on (unreachable, wrong or unsafe archive); one line for the terminal.

    `code` is the exit code: 1 (failed mid-run: network, a broken download) unless the user's own input
    was refused (2: a hand-fetched archive that is missing or wrong, a half-extracted folder).
    """

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Archive:
    """One published archive: `name` unpacks to a folder `split/` of N.png + digitStruct.mat."""

    split: str
    name: str
    size: int  # bytes
    md5: str


# Sizes and MD5s from ../shared/data/svhn/README.md (an independent mirror of the official files).
ARCHIVES: dict[str, Archive] = {
    a.split: a
    for a in (
        Archive("train", "train.tar.gz", 404_141_560, "a649f4cb15c35520e8a8c342d4c0005a"),
        Archive("test", "test.tar.gz", 276_555_967, "790d9c8d42f1fcbd219b59956c853a81"),
        Archive("extra", "extra.tar.gz", 1_955_489_752, "606f41243d71ca4d5fe66dbaf1f02bee"),
    )
}


def url_of(archive: Archive, base_url: str = BASE_URL) -> str:
    """The download address of `archive` under `base_url`."""
    return base_url.rstrip("/") + "/" + archive.name


def file_md5(path: Path, chunk: int = 1 << 20) -> str:
    """Hex MD5 of a file, read in 1 MiB chunks (the extra archive is 2 GB)."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def mismatch(path: Path, archive: Archive) -> str | None:
    """Why `path` is not `archive` (size checked first: it is free), or None if it is."""
    size = path.stat().st_size
    if size != archive.size:
        return f"size {size:,} bytes, expected {archive.size:,}"
    md5 = file_md5(path)
    if md5 != archive.md5:
        return f"MD5 {md5}, expected {archive.md5}"
    return None


def is_complete(folder: Path, archive: Archive) -> bool:
    """True if `folder` was fully extracted from `archive` (its marker holds the archive's MD5)."""
    marker = folder / MARKER
    return marker.is_file() and marker.read_text().strip() == archive.md5


def extract(path: Path, root: Path, archive: Archive, *, progress: bool = True) -> Path:
    """Unpack `path` into a temp folder in root, then rename its <split>/ to root/<split>/ at once."""
    for stale in root.glob(f".{archive.split}.*.tmp"):  # left by an interrupted run
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{archive.split}.", suffix=".tmp", dir=root))
    folder = root / archive.split
    try:
        with tarfile.open(path, "r:gz") as tar:
            members = tqdm(tar, desc=f"extract {archive.split}", unit=" files", disable=not progress)
            tar.extractall(tmp, members=_checked(members, tmp), **_DATA_FILTER)
        out = tmp / archive.split
        if not (out / "digitStruct.mat").is_file():
            raise DownloadError(f"{path} has no {archive.split}/digitStruct.mat: not the SVHN {archive.split} archive")
        (out / MARKER).write_text(archive.md5 + "\n")
        os.rename(out, folder)  # atomic: a folder named <split> is always a complete one
    except (tarfile.TarError, EOFError, zlib.error) as e:
        raise DownloadError(f"cannot extract {path}: {e}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _checked(members: Iterable[tarfile.TarInfo], dest: Path) -> Iterator[tarfile.TarInfo]:
    """Refuse anything but plain files and folders inside `dest` (also where filter='data' is missing)."""
    base = os.path.realpath(dest)
    for m in members:
        target = os.path.realpath(os.path.join(base, m.name))
        if not (m.isfile() or m.isdir()) or os.path.commonpath([base, target]) != base:
            raise DownloadError(f"refusing unsafe archive member {m.name!r}")
        yield m
