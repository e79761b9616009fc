"""The output interface: a typed Event per reported reading, a cheap per-frame view, and the fan-out that guards
each output."""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from ..app import App, AppConfig

log = logging.getLogger("edge_app")


class OutputError(RuntimeError):
    """A reading, picture or message that could not be delivered (disk full, broker away, port taken...)."""


@dataclass
class Event:
    """One reported reading, as every output receives it (DESIGN.md's JSONL fields plus box and model)."""

    time: str  # ISO 8601, UTC
    source: str
    frame: int
    file: str | None  # picture file name for picture sources, else None
    reading: str
    confidence: float
    digit_confidences: list[float]
    roi: list[int]  # [x, y, w, h] in frame pixels: the region that was read
    latency_ms: float
    box: list[int] | None = None  # the detector's box [x, y, w, h], None without a detector
    box_confidence: float | None = None
    model: str | None = None  # the reader model's file name
    event: str = "reading"  # a picture's or frame's reading; a live track's "reported", "updated" or "gone"
    track: int | None = None  # the live track's id
    first_seen: str | None = None  # when the track was first seen (ISO 8601, UTC)
    frames: int | None = None  # the track's views fused into this reading
    in_view: list[str] | None = None  # "gone": the readings of the tracks still in view

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FrameView:
    """What happened to one frame, handed to every output; holds references only, nothing is encoded or copied."""

    index: int
    image: np.ndarray | None  # (H, W, 3) uint8 RGB; None for a skipped frame
    file: str | None = None
    region: list[int] | None = None  # the region read, [x, y, w, h]
    box: list[int] | None = None
    reading: str | None = None  # the most confident decode, before gate and smoothing ("" for no digits)
    confidence: float | None = None
    latency_ms: float | None = None
    passed: bool = False  # the reading passed the confidence gate (live tracks: a reported number is in view)
    events: list[Event] = field(default_factory=list)  # what this frame reported
    tracks: list[dict] = field(default_factory=list)  # live tracks seen in this frame: id, box, reading, confidence
    time: float = field(default_factory=time.time)


class Output:
    """One place readings go. `write` gets each reported Event, `frame` every frame; neither may block for long.

    Policy: after `max_failures` failures in a row the fan-out disables the output (None: never), logging one
    line per outage. Subclasses declare a `key` (the registry name) and `from_config(cfg)`.
    """

    key: ClassVar[str] = ""
    max_failures: ClassVar[int | None] = 20

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Declare this output's flags (each is also a --config key); its settings are checked where declared."""

    @classmethod
    def from_config(cls, cfg: AppConfig) -> Output | None:
        """The output this config asks for, or None when it is off."""
        raise NotImplementedError

    def start(self, app: App) -> None:
        """Called once before the first frame, with the running app (status, ROI control)."""

    def frame(self, view: FrameView) -> None:
        """Every processed frame (also those that report nothing); only called on outputs that define it."""

    def write(self, event: Event) -> None:
        """Each reported reading; only called on outputs that define it."""

    def close(self) -> None:
        """Flush and release; called once at the end, also after SIGTERM."""

    def lost(self) -> int:
        """Events this output could not deliver for good (reported at the end; the exit code says so)."""
        return 0


class Fanout:
    """Hands each frame and event to every output; a failing one is logged and, by its policy, disabled."""

    def __init__(self, outputs: list[Output]) -> None:
        self.outputs = list(outputs)
        # Only outputs that define a hook get its calls: no per-frame cost for event-only outputs, and a
        # no-op write() cannot reset the failure count of an output whose frame() keeps failing.
        self._framers = [o for o in self.outputs if type(o).frame is not Output.frame]
        self._writers = [o for o in self.outputs if type(o).write is not Output.write]
        self._failures = {id(o): 0 for o in self.outputs}
        self.disabled: list[Output] = []

    def start(self, app: App) -> None:
        for o in self.outputs:
            o.start(app)  # start-up failures (port taken, folder missing) are the user's to fix: they propagate

    def frame(self, view: FrameView) -> None:
        for o in self._framers:
            self._call(o, o.frame, view)

    def write(self, event: Event) -> None:
        for o in self._writers:
            self._call(o, o.write, event)

    def _call(self, output: Output, method, arg) -> None:
        if output in self.disabled:
            return
        try:
            method(arg)
        except Exception as err:  # noqa: BLE001 - any output bug must not stop the frame loop or the others
            n = self._failures[id(output)] = self._failures[id(output)] + 1
            if n == 1:
                log.warning("%s output failed: %s", output.key, _one_line(err))
            if output.max_failures is not None and n >= output.max_failures:
                log.error("%s output disabled after %d failures in a row", output.key, n)
                self.disabled.append(output)
            return
        if self._failures[id(output)]:
            log.info("%s output works again after %d failures", output.key, self._failures[id(output)])
            self._failures[id(output)] = 0

    def close(self) -> int:
        """Close every output; returns the number of events lost for good across them."""
        lost = 0
        for o in self.outputs:
            try:
                o.close()
            except Exception as err:  # noqa: BLE001
                log.warning("%s output failed to close: %s", o.key, _one_line(err))
            n = o.lost()
            if n:
                log.error("%s output: %d readings could not be delivered", o.key, n)
            lost += n
        return lost


def flag_type(parse):
    """An argparse type from a parser that raises ValueError with its message."""

    def checked(text: str):
        try:
            return parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    checked.__name__ = parse.__name__
    return checked


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return text if isinstance(err, OutputError) else f"{type(err).__name__}: {text}"
