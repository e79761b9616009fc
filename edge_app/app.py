"""The edge app's loop: frames in, readings out, one code path for every source."""

from __future__ import annotations

import logging
import os
import signal
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .contract import Box, ContractError, model_input
from .decode import Reading
from .inference.card import ModelError
from .inference.reader import HouseNumberModel
from .outputs import JsonlWriter, Summary, annotate, format_console, save_annotated
from .regions import LabelledBoxes, scan_windows
from .smoothing import Smoother
from .sources import Frame, open_source

log = logging.getLogger("edge_app")


@dataclass
class AppConfig:
    """How to run the app (built from the command line by __main__)."""

    model: Path
    source: str
    roi: Box | None = None
    scan: bool = False
    boxes: bool = False
    threshold: float | None = None  # None: the gate in the model's card (coverage at 98% on validation data)
    smooth: tuple[int, int] | None = (3, 5)  # report a reading once it won k of the last n frames
    jsonl: Path | None = None
    annotate: Path | None = None
    preview: bool = False
    threads: int | None = None
    edgetpu: bool = False
    size: tuple[int, int] = (640, 480)
    retries: int = 5  # camera reconnects in a row before giving up
    backoff: float = 0.5  # first wait between reconnects, doubled each time (capped)
    max_frames: int | None = None
    quiet: bool = False


class App:
    """Loads the model once, then reads frame after frame until the source ends or a signal arrives."""

    def __init__(self, cfg: AppConfig):
        self.cfg = cfg
        self.model = HouseNumberModel(cfg.model, threads=cfg.threads, edgetpu=cfg.edgetpu)
        self.threshold = self.model.threshold if cfg.threshold is None else cfg.threshold
        if self.threshold is None:  # never a silent 0: a variant without a measured gate needs one given
            raise ModelError(f"{cfg.model} has no measured confidence gate ({self.model.card.gate.basis}); "
                             "pass --threshold")
        self.labels = None
        if cfg.boxes:  # read before any frame, so a folder without labels is refused up front
            where = Path(cfg.source)
            self.labels = LabelledBoxes(where if where.is_dir() else where.parent)
        self.summary = Summary()
        self.stop = False

    def read_frame(self, image: np.ndarray, regions: list[Box]) -> tuple[Reading, Box]:
        """The most confident reading over the regions of one frame."""
        best = None
        for region in regions:
            reading = self.model.read(model_input(image, region))
            if best is None or reading.confidence > best[0].confidence:
                best = (reading, region)
        return best

    def regions_for(self, frame: Frame) -> list[Box]:
        """The regions to read in a frame: the labelled boxes, the ROI, a scan, or the whole frame."""
        h, w = frame.image.shape[:2]
        if self.labels is not None:
            return [self.labels.region(frame.file)]
        if self.cfg.roi is not None:
            return [self.cfg.roi]
        if self.cfg.scan:
            return list(scan_windows(w, h))
        return [Box(0, 0, w, h)]

    def run(self) -> dict:
        """Process the source to its end (or SIGTERM/Ctrl-C); returns the summary."""
        cfg = self.cfg
        old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        writer = JsonlWriter(cfg.jsonl) if cfg.jsonl else None
        try:
            with open_source(cfg.source, size=cfg.size, retries=cfg.retries, backoff=cfg.backoff) as source:
                smoother = Smoother(*cfg.smooth) if cfg.smooth and source.is_live else None
                preview = _Preview() if cfg.preview else None
                for frame in source:
                    if self.stop or (cfg.max_frames is not None and frame.index >= cfg.max_frames):
                        break
                    event = self._one_frame(frame, smoother)
                    if event is None:
                        continue
                    self.summary.add_reading()
                    if writer:
                        writer.write(event)
                    if not cfg.quiet:
                        print(format_console(event), flush=True)
                    if cfg.annotate or preview:
                        drawn = annotate(frame.image, event["roi"], event["reading"], event["confidence"])
                        if cfg.annotate:
                            save_annotated(drawn, cfg.annotate, f"{frame.index:06d}.jpg")
                        if preview:
                            preview.show(drawn)
        finally:
            if writer:
                writer.close()
            for s, h in old.items():
                signal.signal(s, h)
        return self.summary.as_dict()

    def _one_frame(self, frame: Frame, smoother) -> dict | None:
        if frame.image is None or frame.image.size == 0:
            self.summary.add_frame(skipped=True)
            log.warning("skipped frame %d%s: %s", frame.index, f" ({frame.file})" if frame.file else "", frame.error or "empty frame")
            return None
        start = time.perf_counter()
        try:
            reading, region = self.read_frame(frame.image, self.regions_for(frame))
        except ContractError as err:
            self.summary.add_frame(skipped=True)
            log.warning("skipped frame %d%s: %s", frame.index, f" ({frame.file})" if frame.file else "", err)
            return None
        latency = (time.perf_counter() - start) * 1000
        self.summary.add_frame(latency)
        gated = reading.text if reading.length > 0 and reading.confidence >= self.threshold else None
        text = smoother.update(gated) if smoother else gated
        if text is None:
            return None
        return {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "source": self.cfg.source,
            "frame": frame.index,
            "file": frame.file,
            "reading": text,
            "confidence": round(reading.confidence, 4),
            "digit_confidences": list(reading.digit_confidences),
            "roi": [int(round(v)) for v in region],
            "latency_ms": round(latency, 3),
        }

    def _on_signal(self, signum, frame) -> None:
        self.stop = True


class _Preview:
    """An OpenCV window where a display exists; silently absent otherwise (a Pi over ssh, CI)."""

    def __init__(self):
        self.cv2 = None
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            log.warning("--preview: no display here; going on without a window")
            return
        try:
            import cv2

            self.cv2 = cv2
        except ImportError:
            log.warning("--preview needs OpenCV (pip install opencv-python); going on without a window")

    def show(self, image) -> None:
        if self.cv2 is not None:
            self.cv2.imshow("house numbers", self.cv2.cvtColor(np.asarray(image), self.cv2.COLOR_RGB2BGR))
            self.cv2.waitKey(1)
