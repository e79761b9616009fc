"""JSON lines, one reported reading a line, each written whole or not at all."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import stat
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import cli
from .base import Event, Output, OutputError

if TYPE_CHECKING:
    from ..app import AppConfig

log = logging.getLogger("edge_app")


def _jsonable(value: object) -> object:
    """json.dumps fallback for numpy scalars and arrays, which events often carry."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(record: dict) -> str:
    """One compact line of UTF-8 JSON (no newline)."""
    return json.dumps(record, ensure_ascii=False, default=_jsonable)


class JsonlWriter:
    """Appends one JSON object a line; a line is written whole or not at all."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        try:
            self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as err:
            raise OutputError(f"cannot open {self.path} for readings: {err.strerror or err}") from None

    def write(self, event: dict) -> None:
        """Append `event` as one line; on failure the file is cut back to its size before the write."""
        if self._fd is None:
            raise OutputError(f"cannot write readings to {self.path}: the writer is closed")
        data = (to_json(event) + "\n").encode("utf-8")
        # One os.write on an O_APPEND descriptor: no Python buffer to flush, and no interleaving with other
        # appenders. Truncating back assumes we are the only writer, which the app is.
        before = os.fstat(self._fd).st_size
        try:
            written = os.write(self._fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, f"short write ({written} of {len(data)} bytes)")
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


class JsonlOutput(Output):
    """`--jsonl FILE`. Policy: a line that cannot be written waits in memory (up to `backlog`) and is retried,
    in order, before the next one; it is never disabled, so a disk that fills and empties again loses nothing."""

    key = "jsonl"
    max_failures = None

    def __init__(self, path: str | os.PathLike, backlog: int = 10_000) -> None:
        self.writer = JsonlWriter(path)
        self.pending: deque[dict] = deque()
        self.backlog = backlog
        self.dropped = 0

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--jsonl", type=cli.output_file, help="append one JSON line per reported reading")

    @classmethod
    def from_config(cls, cfg: AppConfig) -> JsonlOutput | None:
        return cls(cfg.jsonl) if cfg.jsonl else None

    def write(self, event: Event) -> None:
        if len(self.pending) >= self.backlog:
            self.pending.popleft()
            self.dropped += 1
        self.pending.append(event.as_dict())
        self._drain()

    def _drain(self) -> None:
        while self.pending:
            self.writer.write(self.pending[0])  # raises OutputError: the line stays pending
            self.pending.popleft()

    def close(self) -> None:
        try:
            self._drain()
        except OutputError as err:
            log.error("%s", err)
        finally:
            self.writer.close()

    def lost(self) -> int:
        return self.dropped + len(self.pending)
