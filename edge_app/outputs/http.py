"""`--http [HOST:]PORT`: the status page with a live snapshot and ROI drawing, and its JSON API.

GET / (the page), GET /api/status, GET /api/readings?limit=N, GET /snapshot.jpg, PUT /api/roi ([x, y, w, h]).
Served by http_server.BoundedServer in its own threads. The frame loop only hands over references (a few
attribute writes per frame); a snapshot is drawn and encoded only when someone asks, at most once a second.

Who may ask: bound to 127.0.0.1 unless a host is given; any other host needs a token of at least 16 characters
(`python -m edge_app token` makes one). With a token, every request needs it: `Authorization: Bearer T`, or the
HttpOnly SameSite=Strict cookie that opening the page once as /?token=T sets (the page then drops it from its
address). Only Host names this server serves are answered (IP addresses, localhost, this machine's name, and
--http-host names): a DNS-rebinding page gets 421. A state change needs a JSON body and no Origin but the page's
own. Five wrong tokens in a minute from one address lock it out for that minute, with a log line.
"""

from __future__ import annotations

import argparse
import io
import ipaddress
import logging
import math
import re
import secrets
import socket
import sys
import threading
import time
from collections import deque
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ..contract import Box
from . import page_settings
from .annotate import annotate_view
from .base import Event, FrameView, Output, OutputError, flag_type
from .history import LogTail, readings_per_hour
from .http_handler import Handler
from .http_server import BoundedServer, ListenError
from .saved_frames import SavedFrames

if TYPE_CHECKING:
    from ..app import App, AppConfig

log = logging.getLogger("edge_app")
MIN_TOKEN = 16  # characters a token needs to open the page to the network
LOCKOUT = (5, 60.0)  # wrong tokens from one address in that many seconds lock it out for as long
SNAPSHOT_INTERVAL = 1.0  # seconds: at most one JPEG encoding per interval, whoever asks


def parse_http(text: str) -> tuple[str, int]:
    """'[HOST:]PORT' -> (host, port); the host defaults to loopback; IPv6 as [::1]:8080. Raises ValueError."""
    host, _, port = text.rpartition(":")
    if host.startswith("[") != host.endswith("]"):
        raise ValueError(f"{text!r}: write an IPv6 address in brackets, e.g. [::1]:8080")
    host = host.strip("[]") or "127.0.0.1"
    if not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        raise ValueError(f"{text!r}: expected [HOST:]PORT with a port 1..65535, e.g. 8080 or 0.0.0.0:8080")
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _names(text: str) -> tuple[str, ...]:
    names = tuple(n.strip().lower() for n in text.split(",") if n.strip())
    if not names or not all(re.fullmatch(r"[a-z0-9.-]+", n) for n in names):
        raise ValueError(f"{text!r}: expected host names separated by commas, e.g. gate.example.com")
    return names


def new_token() -> str:
    """A random token for --http-token (32 URL-safe characters)."""
    return secrets.token_urlsafe(24)


def served_names(bound: str, extra: tuple[str, ...] = ()) -> set[str]:
    """Host names (lower case, no port) answered besides IP addresses: loopback, this machine's, --http-host's."""
    names = {"localhost", bound.lower()}
    if not is_loopback(bound):
        host = socket.gethostname().lower()
        names |= {host, host.split(".")[0], host.split(".")[0] + ".local"}
    return names | {n.lower() for n in extra}


class HttpOutput(Output):
    """Policy: never disabled; a request that fails gets its error, and the frame loop never waits on one."""

    key = "http"
    max_failures = None

    def __init__(self, host: str, port: int, token: str | None = None, keep: int = 200,
                 names: tuple[str, ...] = (), save_dir: Path | None = None) -> None:
        if not is_loopback(host) and (not token or len(token) < MIN_TOKEN):
            raise OutputError(f"--http {host}:{port} opens the page to the network: give --http-token with at least "
                              f"{MIN_TOKEN} characters (make one with: python -m edge_app token), so no one on the LAN "
                              "changes the region unasked")
        self.token = token
        self.names = served_names(host, names)
        self.log_tail = LogTail()
        self.saved = SavedFrames(save_dir) if save_dir else None
        self._failures: dict[str, deque[float]] = {}
        self._failures_lock = threading.Lock()
        self.app: App | None = None
        self.latest: FrameView | None = None
        self.recent: deque[dict] = deque(maxlen=keep)
        self.latencies: deque[float] = deque(maxlen=30)
        self._snapshot: tuple[float, bytes] | None = None
        self._snapshot_lock = threading.Lock()
        self.page = resources.files(__package__).joinpath("page.html").read_bytes()
        shown = f"[{host}]" if ":" in host else host
        try:
            self.server = _Server((host, port), Handler)
        except ListenError as err:
            raise OutputError(f"--http {shown}:{port}: cannot listen there ({err})") from None
        self.server.output = self  # type: ignore[attr-defined]
        self.address = f"http://{host if ':' not in host else f'[{host}]'}:{self.server.server_address[1]}/"
        self._thread = threading.Thread(target=self.server.serve_forever, name="http", daemon=True)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        w = parser.add_argument_group("web page and JSON API")
        w.add_argument("--http", type=flag_type(parse_http),
                       help="[HOST:]PORT: serve the status page (live view, draw the region) and /api/...; loopback "
                       "unless a host is given")
        w.add_argument("--http-token",
                       help=f"a secret the page and API ask for (open the page once as /?token=..., or send "
                       f"Authorization: Bearer ...); required, at least {MIN_TOKEN} characters, for a host other "
                       "than loopback (python -m edge_app token makes one)")
        w.add_argument("--save-dir", type=Path, metavar="DIR",
                       help="where the page's \"save this frame\" puts hard frames with the number you saw: a "
                       "labelled folder python -m train takes as it is (default: off)")
        w.add_argument("--http-host", type=flag_type(_names), metavar="NAME[,NAME..]",
                       help="other host names the page is reached by (a reverse proxy's, a DNS name); IP addresses, "
                       "localhost and this machine's name are always served")

    @classmethod
    def from_config(cls, cfg: AppConfig) -> HttpOutput | None:
        return cls(*cfg.http, token=cfg.http_token, names=cfg.http_host or (), save_dir=cfg.save_dir) \
            if cfg.http else None

    def start(self, app: App) -> None:
        self.app = app
        logging.getLogger("edge_app").addHandler(self.log_tail)
        self._thread.start()
        log.info("http: status page at %s%s", self.address, "?token=..." if self.token else "")

    # authentication (HTTP threads)
    def locked_out(self, client: str) -> bool:
        with self._failures_lock:
            recent = self._failures.get(client)
            return recent is not None and len(recent) >= LOCKOUT[0] and time.monotonic() - recent[-1] < LOCKOUT[1]

    def failed(self, client: str) -> None:
        """Count a wrong token from `client`; log once when it is locked out."""
        with self._failures_lock:
            now = time.monotonic()
            recent = self._failures.setdefault(client, deque(maxlen=LOCKOUT[0]))
            recent.append(now)
            if len(self._failures) > 1024:  # bounded: forget the oldest addresses
                self._failures.pop(next(iter(self._failures)))
            if len(recent) == LOCKOUT[0] and now - recent[0] < LOCKOUT[1]:
                log.warning("http: %d wrong tokens from %s in %.0f s; refusing it for %.0f s", LOCKOUT[0], client,
                            now - recent[0], LOCKOUT[1])

    def frame(self, view: FrameView) -> None:
        if view.image is not None:
            self.latest = view  # a reference: nothing is copied or encoded here
            if view.latency_ms is not None:
                self.latencies.append(view.latency_ms)

    def write(self, event: Event) -> None:
        self.recent.append(event.as_dict())

    def close(self) -> None:
        logging.getLogger("edge_app").removeHandler(self.log_tail)
        if self._thread.is_alive():
            self.server.shutdown()
        self.server.server_close()

    # what the handlers serve (HTTP threads)
    def status(self) -> dict:
        app = self.app
        view = self.latest
        latencies = sorted(self.latencies)
        s = app.summary
        return {
            "source": app.source_name,
            "mode": ("boxes" if app.labels is not None else "roi" if app.roi is not None
                     else "scan" if app.scan else "detect" if app.detector is not None else "frame"),
            "roi": [round(v, 1) for v in app.roi] if app.roi is not None else None,
            "frame_size": [int(view.image.shape[1]), int(view.image.shape[0])] if view else None,
            "frames": s.frames, "skipped": s.skipped, "readings": s.readings,
            "fps": round(s.recent_fps, 2) if s.recent_fps else None,
            "latency_ms": round(latencies[len(latencies) // 2], 3) if latencies else None,
            "uptime_s": round(time.time() - app.started, 1),
            "latest": self.recent[-1] if self.recent else None,
            "current": {"frame": view.index, "reading": view.reading, "confidence": view.confidence,
                        "region": view.region, "box": view.box} if view else None,
            "tracks": view.tracks if view else [],  # live numbers in view: id, box, reading, confidence, reported
            "model": app.model.path.name,
            "licence": app.model.card.training.get("licence"),
            "threshold": app.threshold,
            "config": str(app.cfg.config) if app.cfg.config else None,
        }

    def settings(self) -> dict:
        """The page-editable settings as they stand."""
        return page_settings.current(self.app)

    def set_settings(self, values) -> tuple[int, dict]:
        """Change settings from the page (page_settings.apply); (HTTP status, JSON answer)."""
        return page_settings.apply(self.app, values)

    def save_frame(self, values) -> tuple[int, dict]:
        """Save the latest frame with the number the user saw in its region; (HTTP status, JSON answer)."""
        if self.saved is None:
            return 409, {"error": "saving frames is off: start the app with --save-dir DIR (save-dir in the config)"}
        view = self.latest
        if view is None or view.image is None or view.region is None:
            return 409, {"error": "no frame with a region yet"}
        if not isinstance(values, dict) or not isinstance(values.get("number"), str):
            return 400, {"error": "expected {\"number\": \"123\"} (an empty string: no number in the region)"}
        region = view.box or view.region  # the detector's box is the number's own; a region is grown around it
        try:
            name = self.saved.save(view.image, region, values["number"].strip())
        except ValueError as err:
            return 400, {"error": str(err)}
        except OSError as err:
            return 500, {"error": f"cannot write in {self.saved.folder}: {err.strerror or err}"}
        number = values["number"].strip()
        log.info("saved frame %d as %s in %s (%s)", view.index, name, self.saved.folder, number or "no number")
        return 200, {"saved": name, "folder": str(self.saved.folder), "number": number}

    def history(self, hours: int) -> tuple[int, dict]:
        """Readings per hour from the app's JSONL file; (HTTP status, JSON answer)."""
        if self.app.cfg.jsonl is None:
            return 404, {"error": "no history: the app keeps its readings only with --jsonl (jsonl in the config)"}
        return 200, {"hours": readings_per_hour(self.app.cfg.jsonl, hours)}

    def snapshot(self) -> bytes | None:
        """The latest frame drawn and encoded as JPEG, reused for SNAPSHOT_INTERVAL seconds."""
        with self._snapshot_lock:
            now = time.monotonic()
            if self._snapshot and now - self._snapshot[0] < SNAPSHOT_INTERVAL:
                return self._snapshot[1]
            view = self.latest
            if view is None:
                return None
            buffer = io.BytesIO()
            annotate_view(view).save(buffer, format="JPEG", quality=80)
            self._snapshot = (now, buffer.getvalue())
            return self._snapshot[1]

    def set_roi(self, values) -> tuple[int, dict]:
        """Check a drawn region against the frame and apply it; (HTTP status, JSON answer)."""
        app, view = self.app, self.latest
        if app.labels is not None:
            return 409, {"error": "the app reads the labelled boxes (--boxes); a drawn region does not apply"}
        if view is None:
            return 409, {"error": "no frame yet: wait for the first frame, then draw the region"}
        if (not isinstance(values, list) or len(values) != 4
                or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                           for v in values)):
            return 400, {"error": "expected a JSON list of four numbers [x, y, w, h] in frame pixels"}
        x, y, w, h = (round(float(v), 1) for v in values)
        width, height = view.image.shape[1], view.image.shape[0]
        if w < 8 or h < 8:
            return 400, {"error": f"region {w:g}x{h:g} is too small: at least 8x8 pixels"}
        if x < 0 or y < 0 or x + w > width or y + h > height:
            return 400, {"error": f"region [{x:g}, {y:g}, {w:g}, {h:g}] is outside the {width}x{height} frame"}
        try:
            saved = app.set_roi(Box(x, y, w, h))
        except (OSError, ValueError) as err:  # ValueError: a config file this writer cannot edit safely
            why = getattr(err, "strerror", None) or err
            log.warning("http: region applied but not saved to %s (%s)", app.cfg.config, why)
            return 200, {"roi": [x, y, w, h], "saved": False, "error": f"not saved to {app.cfg.config}: {why}"}
        return 200, {"roi": [x, y, w, h], "saved": saved, "config": str(app.cfg.config) if saved else None}


class _Server(BoundedServer):
    def handle_error(self, request, client_address) -> None:
        """One line instead of socketserver's traceback on stderr; the server goes on."""
        err = sys.exc_info()[1]
        log.warning("http: a request from %s failed: %s: %s", client_address[0], type(err).__name__, err)


