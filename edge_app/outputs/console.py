"""A human line per reported reading on stdout."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .base import Event, Output

if TYPE_CHECKING:
    from ..app import AppConfig


def format_console(event: Event | dict) -> str:
    """One human line: 'frame 12  1.png  reading 231  conf 0.97  [0.99 0.98 0.99]  3.1 ms'."""
    if isinstance(event, Event):
        event = event.as_dict()
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


class ConsoleOutput(Output):
    """On unless --quiet."""

    key = "console"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--quiet", "-q", action=argparse.BooleanOptionalAction, default=False,
                            help="no console line per reading (the log keeps its info lines: outages, reconnections)")

    @classmethod
    def from_config(cls, cfg: AppConfig) -> ConsoleOutput | None:
        return None if cfg.quiet else cls()

    def write(self, event: Event) -> None:
        print(format_console(event), flush=True)
