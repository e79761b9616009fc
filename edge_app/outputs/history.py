"""What the status page shows of the past: readings per hour from the JSONL file, and the tail of the app's log.

Both are bounded: the history reads at most the last MAX_BYTES of the file (a device may have written years of
readings), the log keeps the last LOG_LINES lines in memory.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter, deque
from datetime import datetime, timedelta, timezone
from pathlib import Path

MAX_BYTES = 4 << 20  # the JSONL tail read for a history: about 15,000 readings
LOG_LINES = 200


def readings_per_hour(path: Path, hours: int = 24, now: datetime | None = None,
                      max_bytes: int = MAX_BYTES) -> list[dict]:
    """The last `hours` hours, oldest first: {"hour": ISO start, "readings": n, "numbers": {reading: n}} each."""
    now = now or datetime.now(timezone.utc)
    start = (now - timedelta(hours=hours - 1)).replace(minute=0, second=0, microsecond=0)
    buckets = [start + timedelta(hours=i) for i in range(hours)]
    counts: dict[datetime, Counter] = {b: Counter() for b in buckets}
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - max_bytes))
            if size > max_bytes:
                f.readline()  # the first line read may be cut: skip it
            lines = f.read().splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        try:
            event = json.loads(line)
            when = datetime.fromisoformat(event["time"]).astimezone(timezone.utc)
        except (ValueError, KeyError, TypeError):
            continue  # a line cut by a power cut, or not an event
        hour = when.replace(minute=0, second=0, microsecond=0)
        if hour in counts and event.get("event") != "gone":  # a number leaving the view is not a reading
            counts[hour][str(event.get("reading", ""))] += 1
    return [{"hour": b.isoformat(timespec="minutes"), "readings": sum(counts[b].values()),
             "numbers": dict(counts[b].most_common(5))} for b in buckets]


class LogTail(logging.Handler):
    """The last LOG_LINES lines of the app's log, for the page (lines are formatted as the console shows them)."""

    def __init__(self, lines: int = LOG_LINES) -> None:
        super().__init__(level=logging.INFO)
        self.lines: deque[str] = deque(maxlen=lines)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never break the app
            self.handleError(record)
