"""Write a file whole or not at all: a temp file beside it, then a rename (atomic on one filesystem)."""

from __future__ import annotations

import contextlib
import fcntl
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


def hold(path, create: bool = True) -> int:
    """An exclusive fcntl lock on `path` (made 0600 when missing and `create`), kept until its descriptor is closed
    (or the process ends); BlockingIOError when another process holds it. One owner per spool, per config."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT if create else os.O_RDONLY, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise
    return fd
