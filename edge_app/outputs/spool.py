"""A bounded, ordered on-disk queue of messages waiting for the broker: one file per message, oldest first.

A message that cannot be written (disk full, read-only folder) is kept in memory instead, in its place in the
queue, so the order and the content survive; only a process that dies with it in memory loses it. Past
`limit` messages the oldest is dropped, counted and logged: never silently. One process owns a spool folder at a
time (an fcntl lock on its .lock file): a second one refuses to start instead of numbering its files alike.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from ..atomic import hold, write_atomic

log = logging.getLogger("edge_app")
SUFFIX = ".msg"
LOCK = ".lock"


class SpoolBusy(RuntimeError):
    """Another process holds the spool folder."""


@dataclass
class Entry:
    seq: int
    payload: bytes
    path: Path | None  # None: held in memory only (the disk refused it)


class Spool:
    """Append at the back, peek and pop at the front; files are named by a sequence number, so order survives
    restarts."""

    def __init__(self, folder: str | os.PathLike, limit: int = 10_000, name: str = "mqtt spool") -> None:
        self.folder = Path(folder)
        self.limit = limit
        self.name = name
        self.entries: deque[Entry] = deque()
        self.dropped = 0
        self._disk_ok = True
        self._next = 0
        self._lock: int | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._take_lock()
            for path in sorted(self.folder.iterdir()):
                if path.name == LOCK:
                    continue
                if path.name.startswith("."):  # a temp file from a write cut short: never a whole message
                    path.unlink(missing_ok=True)
                elif path.suffix == SUFFIX and path.stem.isdigit():
                    self.entries.append(Entry(int(path.stem), path.read_bytes(), path))
        except OSError as err:
            self._disk_failed(err)
        if self.entries:
            self._next = self.entries[-1].seq + 1
            log.info("%s: %d readings from an earlier run wait in %s", self.name, len(self.entries), self.folder)

    def _take_lock(self) -> None:
        try:
            self._lock = hold(self.folder / LOCK)
        except BlockingIOError:
            raise SpoolBusy(f"another process uses the {self.name} {self.folder}: give each its own --mqtt-id "
                            "(or --mqtt-spool)") from None

    def close(self) -> None:
        """Let another process have the folder."""
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor releases the lock
            self._lock = None

    def __len__(self) -> int:
        return len(self.entries)

    def append(self, payload: bytes) -> None:
        if len(self.entries) >= self.limit:
            old = self.entries.popleft()
            self._remove(old)
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.error("%s is full (%d readings): dropped the oldest, %d dropped so far", self.name, self.limit,
                          self.dropped)
        seq, self._next = self._next, self._next + 1
        path = self.folder / f"{seq:012d}{SUFFIX}"
        try:
            write_atomic(path, payload)
            if not self._disk_ok:
                self._disk_ok = True
                log.info("%s: writing to %s again", self.name, self.folder)
        except OSError as err:
            self._disk_failed(err)
            path = None
        self.entries.append(Entry(seq, payload, path))

    def head(self) -> Entry | None:
        return self.entries[0] if self.entries else None

    def pop(self) -> None:
        """The front message was delivered: forget it."""
        self._remove(self.entries.popleft())

    def in_memory(self) -> int:
        return sum(e.path is None for e in self.entries)

    def _remove(self, entry: Entry) -> None:
        if entry.path is not None:
            try:
                entry.path.unlink(missing_ok=True)
            except OSError as err:  # delivered anyway; a leftover file would be sent again after a restart
                log.warning("%s: cannot remove %s (%s)", self.name, entry.path, err.strerror or err)

    def _disk_failed(self, err: OSError) -> None:
        if self._disk_ok:
            self._disk_ok = False
            log.warning("%s: cannot write in %s (%s); holding readings in memory until the broker takes them",
                        self.name, self.folder, err.strerror or err)
