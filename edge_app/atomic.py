"""Write a file whole or not at all: a temp file beside it, then a rename (atomic on one filesystem)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _read_umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back (once, at import)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


@contextlib.contextmanager
def atomic_path(path, suffix: str = ".tmp", mode: int | None = None) -> Iterator[Path]:
    """A temp path beside `path` for a writer that wants a file name (Keras, matplotlib); renamed on success.

    The file gets `mode`, else the mode an ordinary open() would give (0644 under the usual umask), not mkstemp's
    0600, so a model card written by one user can be read by the service that runs the model.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path, data) -> Path:
    """`data` as indented JSON in `path`, written whole; the folder is made first if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, json.dumps(data, indent=2))


def write_atomic(path, data: str | bytes, mode: int | None = None) -> Path:
    """Write text or bytes to `path` so that readers see the old file or the new one, never half of it (`mode`:
    the new file's permissions, default as open() would make them)."""
    with atomic_path(path, mode=mode) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    return Path(path)
