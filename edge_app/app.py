"""The edge app loop: source -> (detect) -> region -> read -> gate -> smooth -> outputs, one path for every source.

A live source with the detector follows each number and fuses its frames instead (edge_app.live): it reports a
track when its fused reading is sure, and again when the number has gone."""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .config import save_roi
from .contract import Box, ContractError, crop_region, model_input
from .decode import Reading
from .detect import LOOKS, DetectAndRead, detect_thresholds, detector_for, scene_views
from .inference.card import ModelError
from .inference.detector import DEFAULT_DETECTOR, NumberDetector
from .inference.reader import HouseNumberModel
from .live import TRACK_GATE, LiveReader, Report
from .live_view import show_tracks, track_event
from .outputs import Event, Fanout, FrameView, Output
from .outputs.mqtt import MqttUrl
from .redact import redact
from .regions import LabelledBoxes, in_frame, scan_windows
from .smoothing import TRACKS, Smoother
from .sources import Frame, open_source
from .sources.base import CameraControls
from .sources.imx500_network import sensor_reading
from .summary import Summary
from .tiles import LEVELS, LIVE_TILES, STILL_ABOVE
from .tta import read_region
from .watchdog import Watchdog

log = logging.getLogger("edge_app")


@dataclass(kw_only=True)
class AppConfig:
    """How to run the app: one field per command-line flag and config-file key (built by edge_app.config)."""

    model: Path
    source: str
    roi: Box | None = None
    scan: bool = False
    boxes: bool = False
    detect: bool = False  # also the mode when none of roi, scan, boxes is given
    detector: Path = DEFAULT_DETECTOR
    box_threshold: float | None = None  # None: the detector card's scene gate, else its score threshold
    looks: int = LOOKS  # detector looks per frame (edge_app.detect)
    tiles: int | None = None  # tiles a live frame looks at besides the whole (None: LIVE_TILES), a picture all of them;
    # without the flag only frames larger than 640x480 get tiles (tiles.STILL_ABOVE); 0: the whole frame only
    threshold: float | None = None  # None: the gate in the model's card (coverage at 98% on validation data)
    smooth: tuple[int, int] | str | None = TRACKS  # live sources: "tracks" follows and fuses each number (with the
    # detector; the 3/5 vote otherwise), (k, n) reports a reading once it won k of the last n frames, None every frame
    track_gate: float | None = None  # fused confidence a track must reach to be reported (None: live.TRACK_GATE)
    fps: float | None = None  # rate cap: at most this many frames a second (None: as fast as they come)
    jsonl: Path | None = None
    annotate: Path | None = None
    force: bool = False  # --annotate may replace the pictures of an earlier run
    preview: bool = False
    threads: int | None = None
    tta: int | None = None  # test-time views averaged per region (contract.TTA_VIEWS; None: 1, or with --detect the
    # views the detector's scene gate was tuned with); the reader's cost grows about linearly
    edgetpu: bool = False
    size: tuple[int, int] = (640, 480)  # camera frame size; picamera2's main stream, where the reader crops
    lores: tuple[int, int] | None = None  # picamera2's lores stream for a detector (its input size), else None
    autofocus: str | None = None  # picamera2 AfMode (Camera Module 3): continuous | auto | manual
    lens_position: float | None = None  # camera controls (sources.base.CameraControls): None leaves the camera's own
    hflip: bool = False
    vflip: bool = False
    exposure_us: int | None = None
    gain: float | None = None
    brightness: float | None = None
    zoom: float = 1.0
    retries: int = 5  # camera reconnects in a row before giving up
    backoff: float = 0.5  # first wait between reconnects, doubled each time (capped)
    max_frames: int | None = None
    quiet: bool = False
    mqtt: MqttUrl | None = None  # the broker; None: no MQTT
    mqtt_prefix: str = "house_numbers"
    mqtt_id: str | None = None  # None: the hostname
    mqtt_ca: Path | None = None
    mqtt_cert: Path | None = None
    mqtt_key: Path | None = None
    mqtt_spool: Path | None = None  # None: ~/.local/state/house-numbers/mqtt-spool/<id>
    mqtt_spool_max: int = 10_000
    mqtt_retry_max: float = 30.0  # longest wait between reconnect attempts (1 s, doubled each time)
    http: tuple[str, int] | None = None  # (host, port) of the status page; None: no page
    http_token: str | None = None  # required for a host other than loopback
    http_host: tuple[str, ...] | None = None  # more Host names the page answers to
    save_dir: Path | None = None  # where the page saves hard frames with their number (a training folder)
    config: Path | None = None  # the device.toml this came from; the web page writes the ROI back to it


class App:
    """Loads the model once, then reads frame after frame until the source ends or a signal arrives."""

    def __init__(self, cfg: AppConfig, outputs: list[Output] | None = None):
        self.cfg = cfg
        self.model = HouseNumberModel(cfg.model, threads=cfg.threads, edgetpu=cfg.edgetpu)
        self.labels = None
        if cfg.boxes:  # read before any frame, so a folder without labels is refused up front
            where = Path(cfg.source)
            self.labels = LabelledBoxes(where if where.is_dir() else where.parent)
        self.detector = self.finder = None
        if not (cfg.roi or cfg.scan or cfg.boxes):  # --detect, the default
            path, on_tpu = detector_for(cfg.detector, cfg.edgetpu)
            self.detector = NumberDetector(path, threads=cfg.threads, edgetpu=on_tpu)
            views = scene_views(self.detector, self.model, cfg.looks, cfg.tta)
            box_threshold, self.threshold = detect_thresholds(self.detector, self.model, cfg.box_threshold,
                                                              cfg.threshold, cfg.looks, views)
            # Without --tiles, frames up to 640x480 keep their 6 ms budget (tiles.STILL_ABOVE); with it, any frame.
            self.finder = DetectAndRead(self.detector, self.model, box_threshold, looks=cfg.looks, tta=views,
                                        levels=LEVELS if cfg.tiles != 0 else LEVELS[:1],
                                        tiles_above=STILL_ABOVE if cfg.tiles is None else 0,
                                        gate=self.threshold)
        else:
            self.threshold = self.model.threshold if cfg.threshold is None else cfg.threshold
        if self.threshold is None:  # never a silent 0: a variant without a measured gate needs one given
            raise ModelError(f"{cfg.model} has no measured confidence gate ({self.model.card.gate.basis}); "
                             "pass --threshold")
        self.source_name = redact(cfg.source)  # what events, the page and MQTT show: never a password
        self.roi = cfg.roi  # replaced at once when the web page draws a new one
        self.scan = cfg.scan
        self.outputs = Fanout(outputs or [])
        self.summary = Summary()
        self.started = time.time()
        self.lost = 0  # readings some output could not deliver for good (exit code 1)
        self.stop = False
        self._wake = threading.Event()  # set by a signal: ends the --fps wait at once
        self.live: LiveReader | None = None  # a live source's tracks (set by run)

    def read_frame(self, image: np.ndarray, regions: list[Box]) -> tuple[Reading, Box]:
        """The best reading over the regions of one frame (Reading.rank; the first of equals) and its region."""
        def read(region: Box) -> Reading:
            views = self.cfg.tta or 1  # --roi, --boxes and --scan: one view unless asked
            if views == 1:
                return self.model.read(model_input(image, region))
            return read_region(self.model.probabilities, crop_region(image, region), views)

        return max(((read(region), region) for region in regions), key=lambda found: found[0].rank())

    def regions_for(self, frame: Frame) -> list[Box]:
        """The regions to read in a frame: the labelled boxes, the ROI, a scan, or the whole frame."""
        h, w = frame.image.shape[:2]
        if self.labels is not None:
            return [self.labels.region(frame.file)]
        if self.roi is not None:
            return [self.roi]
        if self.scan:
            return list(scan_windows(w, h))
        return [Box(0, 0, w, h)]

    def run(self) -> dict:
        """Process the source to its end (or SIGTERM/Ctrl-C); returns the summary."""
        cfg = self.cfg
        old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        watchdog = Watchdog()  # systemd's READY/WATCHDOG pings; nothing outside systemd
        try:
            self.outputs.start(self)
            # the detector looks at picamera2's lores stream, made at its input size, instead of the resized main one
            lores = cfg.lores or (self.detector.card.input_size if self.detector else None)
            controls = CameraControls(cfg.lens_position, cfg.hflip, cfg.vflip, cfg.exposure_us, cfg.gain,
                                      cfg.brightness, cfg.zoom)
            with open_source(cfg.source, size=cfg.size, lores=lores, autofocus=cfg.autofocus, controls=controls,
                             retries=cfg.retries, backoff=cfg.backoff, heartbeat=watchdog.ping, roi=cfg.roi) as source:
                vote = (3, 5) if cfg.smooth == TRACKS else cfg.smooth
                smoother = Smoother(*vote) if vote and source.is_live else None
                self.live = None
                if self.finder:
                    if source.is_live and cfg.smooth == TRACKS:
                        self.live = LiveReader(self.finder, TRACK_GATE if cfg.track_gate is None else cfg.track_gate)
                    # a live source looks at its tiles in turn; a picture at all of its own at once
                    tiles = LIVE_TILES if cfg.tiles is None else cfg.tiles
                    self.finder.first_look.per_frame = tiles if source.is_live else None
                next_at = last = None
                watchdog.ready()
                for frame in source:
                    watchdog.ping()
                    if self.stop or (cfg.max_frames is not None and frame.index >= cfg.max_frames):
                        break
                    view = self.process(frame, smoother)
                    last = frame
                    self.outputs.frame(view)
                    for event in view.events:
                        if event.event != "gone":
                            self.summary.add_reading()
                        self.outputs.write(event)
                    if cfg.fps:  # the rate cap: wait for the next slot (a signal ends the wait)
                        now = time.monotonic()
                        next_at = now + 1 / cfg.fps if next_at is None else max(next_at + 1 / cfg.fps, now)  # no burst
                        self._wake.wait(next_at - now)
                if self.live is not None and last is not None:  # the source ended: its numbers are gone from view
                    for report in self.live.end():
                        self.outputs.write(self._report(last, report, 0.0))
        finally:
            watchdog.close()
            self.lost = self.outputs.close()
            for s, h in old.items():
                signal.signal(s, h)
        return self.summary.as_dict()

    def process(self, frame: Frame, smoother) -> FrameView:
        """Regions -> read -> gate -> smooth for one frame; the view carries the event if it reports one."""
        view = FrameView(frame.index, frame.image, frame.file)
        if frame.image is None or frame.image.size == 0:
            self._skip(frame, frame.error or "empty frame")
            view.image = None
            return view
        start = time.perf_counter()
        found = None
        try:
            if self.live is not None and self._detecting():
                return self._follow(frame, view, start)
            if self._detecting():
                found = self.finder(frame.image, frame.lores)
                if found is None:  # no number in the frame: nothing is read, smoothing sees a frame without one
                    self.summary.add_frame((time.perf_counter() - start) * 1000)
                    if smoother:
                        smoother.update(None)
                    return view
                reading, region, found = found.reading, found.region, found.detection
            elif (sensed := sensor_reading(frame.lores, self.roi)) is not None:  # the AI Camera read the ROI itself
                reading, region = sensed, self.roi
            else:
                reading, region = self.read_frame(frame.image, self.regions_for(frame))
        except ContractError as err:
            self._skip(frame, err)
            return view
        latency = (time.perf_counter() - start) * 1000
        self.summary.add_frame(latency)
        view.region = [int(round(v)) for v in region]
        view.box = in_frame(found.box, frame.image) if found else None
        view.reading, view.confidence, view.latency_ms = reading.text, round(reading.confidence, 4), round(latency, 3)
        gated = reading.text if reading.passes(self.threshold) else None
        view.passed = gated is not None
        text = smoother.update(gated) if smoother else gated
        if text is not None:
            view.events.append(Event(
                time=datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                source=self.source_name,
                frame=frame.index,
                file=frame.file,
                reading=text,
                confidence=round(reading.confidence, 4),
                digit_confidences=[float(c) for c in reading.digit_confidences],
                roi=view.region,
                latency_ms=view.latency_ms,
                box=view.box,
                box_confidence=round(found.score, 4) if found else None,
                model=self.model.path.name,
            ))
        return view

    def _follow(self, frame: Frame, view: FrameView, start: float) -> FrameView:
        """A live frame through the tracks (edge_app.live): the tracks in view, and what changed as events."""
        t = frame.time if frame.time is not None else time.monotonic()
        seen, reports = self.live(frame.image, t, frame.lores)
        latency = (time.perf_counter() - start) * 1000
        self.summary.add_frame(latency)
        show_tracks(view, seen, frame.image, latency)
        view.events = [self._report(frame, r, latency) for r in reports]
        return view

    def _report(self, frame: Frame, report: Report, latency: float) -> Event:
        others = [tr.reported.text for tr in self.live.in_view() if tr is not report.track]
        return track_event(report, frame, self.source_name, self.model.path.name, others, latency)

    def _detecting(self) -> bool:
        # The web page can set an ROI mid-run: from then on that region is read instead.
        return self.detector is not None and self.roi is None and not self.scan

    def set_roi(self, roi: Box) -> bool:
        """Read this region from the next frame on (the web page calls this); saved to --config when there is one.

        Returns whether it was saved. Thread-safe enough: the loop reads `self.roi` once per frame.
        """
        self.roi, self.scan = roi, False
        log.info("region set to %s", ",".join(f"{v:g}" for v in roi))
        if self.cfg.config is None:
            return False
        save_roi(self.cfg.config, roi)
        return True

    def _skip(self, frame: Frame, why) -> None:
        self.summary.add_frame(skipped=True)
        log.warning("skipped frame %d%s: %s", frame.index, f" ({frame.file})" if frame.file else "", why)

    def _on_signal(self, signum, frame) -> None:
        self.stop = True
        self._wake.set()

